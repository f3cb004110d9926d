"""The API's routes, one module per area; each exports ``build_router(context)``.

These modules leave out ``from __future__ import annotations`` on purpose:
FastAPI evaluates parameter annotations at run time, and the ``Depends``
inside them name functions local to ``build_router``.
"""
