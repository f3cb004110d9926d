"""API discovery: an inventory of each tenant's endpoints, learned from traffic and files.

Modules are kept apart by concept: ``templating`` (paths to templates),
``schema`` (JSON shapes), ``analysis`` (one exchange to counts),
``inventory`` (a service's endpoints), ``declared`` and ``compare`` (the
OpenAPI document and the findings against it), ``export`` (OpenAPI 3.1 out),
``storage`` (SQL persistence), ``observer`` (the gateway's log phase) and
``importers`` (HAR files and access logs).
"""
