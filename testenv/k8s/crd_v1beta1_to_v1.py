#!/usr/bin/env python3
"""Convert an apiextensions.k8s.io/v1beta1 CustomResourceDefinition (removed in Kubernetes 1.22)
to apiextensions.k8s.io/v1, printing JSON on stdout. Used by start.sh for the legacy KFServing
v0.5.1 CRDs, read in place from the reference directory.

v1 differences handled: per-version schema/subresources/printer columns, `JSONPath` ->
`jsonPath`, no `spec.version`/`spec.validation`, `preserveUnknownFields` must be false, and
schemas must be structural (every node typed; root `metadata` may not be restricted).
"""

import json
import sys

import yaml


def structural(node, root=False):
    """Make an OpenAPI v3 schema node structural, recursively."""
    if not isinstance(node, dict):
        return node
    for key in ("properties", "patternProperties"):
        if isinstance(node.get(key), dict):
            for name, child in node[key].items():
                node[key][name] = structural(child)
    if isinstance(node.get("items"), dict):
        node["items"] = structural(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = structural(node["additionalProperties"])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            node[key] = [structural(c) for c in node[key]]
    if "type" not in node:
        if "properties" in node or "additionalProperties" in node:
            node["type"] = "object"
        elif "items" in node:
            node["type"] = "array"
        elif not node.get("x-kubernetes-int-or-string"):
            node["x-kubernetes-preserve-unknown-fields"] = True
    # v1 requires every x-kubernetes-list-map-keys property to be required or defaulted
    # (old controller-gen output lists containerPort+protocol without either); Kubernetes
    # defaults a port's protocol to TCP.
    items = node.get("items") if isinstance(node.get("items"), dict) else None
    if items is not None and node.get("x-kubernetes-list-map-keys"):
        required = items.setdefault("required", [])
        for key in node["x-kubernetes-list-map-keys"]:
            prop = items.get("properties", {}).get(key)
            if key in required or (isinstance(prop, dict) and "default" in prop):
                continue
            if key == "protocol" and isinstance(prop, dict):
                prop["default"] = "TCP"
            else:
                required.append(key)
    if root:
        props = node.get("properties", {})
        if "metadata" in props:
            props["metadata"] = {"type": "object"}
    return node


def convert(crd):
    spec = crd["spec"]
    top_schema = (spec.pop("validation", None) or {}).get("openAPIV3Schema")
    top_sub = spec.pop("subresources", None)
    top_cols = spec.pop("additionalPrinterColumns", None)
    version = spec.pop("version", None)
    spec.pop("preserveUnknownFields", None)
    versions = spec.get("versions") or [{"name": version, "served": True, "storage": True}]
    for v in versions:
        schema = (v.pop("schema", None) or {}).get("openAPIV3Schema") or top_schema
        if schema is None:
            schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        v["schema"] = {"openAPIV3Schema": structural(json.loads(json.dumps(schema)), root=True)}
        sub = v.pop("subresources", None) or top_sub
        if sub:
            v["subresources"] = sub
        cols = v.pop("additionalPrinterColumns", None) or top_cols
        if cols:
            v["additionalPrinterColumns"] = [
                {("jsonPath" if k == "JSONPath" else k): val for k, val in c.items()} for c in cols
            ]
    spec["versions"] = versions
    crd["apiVersion"] = "apiextensions.k8s.io/v1"
    crd.pop("status", None)
    return crd


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: crd_v1beta1_to_v1.py FILE")
    with open(sys.argv[1], encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    items = [convert(d) for d in docs if d.get("kind") == "CustomResourceDefinition"]
    if not items:
        sys.exit(f"{sys.argv[1]}: no CustomResourceDefinition found")
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout)


if __name__ == "__main__":
    main()
