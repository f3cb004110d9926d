from __future__ import annotations

import pytest
import yaml

from stockade.config.models import GatewayConfig
from stockade.store import tenancy
from stockade.store.config_sync import config_to_yaml_data, export_config, import_config
from stockade.store.errors import OutOfScope
from stockade.store.scope import Store

CONFIG_YAML = """
listeners:
  - name: public
    address: 127.0.0.1:8443
workers: 2
limits:
  max_body_bytes: 1048576
policy:
  mode: block
events:
  queue_size: 500
  sinks:
    - name: archive
      type: jsonl
      path: /var/log/stockade/events.jsonl
    - name: pager
      type: webhook
      url: https://127.0.0.1:9443/hook
      secret_env: PAGER_SECRET
  alert_rules:
    - id: burst
      tenant: acme
      threshold: 10
      window_minutes: 5
      sink: pager
tenants:
  - id: acme
    name: Acme Corp
    policy:
      modes: {waf: detect}
    consumers:
      - id: mobile
        groups: [apps]
        api_keys:
          - id: k1
            hash: sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b
    services:
      - id: orders
        hosts: [api.acme.test]
        path_prefix: /v1
        upstream:
          targets: ["127.0.0.1:9000", "127.0.0.1:9001"]
          read_timeout: 5
        routes:
          - id: get-order
            methods: [GET]
            path: /orders/{id}
            policy:
              mode: detect
          - id: any
            path: /
      - id: billing
        hosts: ["*.billing.acme.test"]
        upstream:
          targets: ["127.0.0.1:9100"]
  - id: globex
"""


def _config() -> GatewayConfig:
    return GatewayConfig.model_validate(yaml.safe_load(CONFIG_YAML))


def test_yaml_store_yaml_round_trip(store: Store) -> None:
    config = _config()
    with store.session(None, "import") as scope:
        import_config(scope, config)
    with store.session(None, "export") as scope:
        exported = export_config(scope)
    assert exported == config
    assert config_to_yaml_data(exported) == config_to_yaml_data(config)
    text = yaml.safe_dump(config_to_yaml_data(exported))
    assert GatewayConfig.model_validate(yaml.safe_load(text)) == config


def test_import_replaces_previous(store: Store) -> None:
    with store.session(None, "import") as scope:
        import_config(scope, _config())
    smaller = GatewayConfig.model_validate({"tenants": [{"id": "globex", "name": "Globex"}]})
    with store.session(None, "import") as scope:
        import_config(scope, smaller)
    with store.session(None, "export") as scope:
        assert export_config(scope) == smaller
        assert tenancy.list_tenant_ids(scope) == ["globex"]


def test_store_edit_appears_in_export(store: Store) -> None:
    with store.session(None, "import") as scope:
        import_config(scope, _config())
    with store.session("acme", "op") as scope:
        tenancy.delete_route(scope, "acme", "orders", "any")
    with store.session(None, "export") as scope:
        exported = export_config(scope)
    orders = exported.tenants[0].services[0]
    assert [route.id for route in orders.routes] == ["get-order"]


def test_import_needs_all_tenants(store: Store) -> None:
    with store.session(None, "import") as scope:
        import_config(scope, _config())
    with store.session("acme", "op") as scope:
        with pytest.raises(OutOfScope):
            import_config(scope, _config())
        with pytest.raises(OutOfScope):
            export_config(scope)
