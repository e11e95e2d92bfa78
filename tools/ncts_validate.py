#!/usr/bin/env python3
"""libxml2's verdict (through lxml) on NCTS phase 5 messages: the reference the transit reader is checked against
(crates/transit/tests). Not used by Aduana at run time.

    tools/ncts_validate.py SCHEMA_DIR FILE...   one JSON line per file: {"file", "valid", "error"}

Each file is validated against the schema its root names (CC015C: SCHEMA_DIR/cc015c.xsd); a root no schema
names is invalid. SCHEMA_DIR is ../shared/conformance/ncts-p5/schemas. Needs lxml (pip install lxml).
"""
import json
import os
import sys

from lxml import etree


def main(argv):
    schema_dir, files = argv[0], argv[1:]
    schemas = {}
    # No network, no DTD loading, no entity expansion: the same stance as Aduana's reader.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    for f in files:
        verdict = {"file": f, "valid": False, "error": None}
        try:
            document = etree.fromstring(open(f, "rb").read(), parser)
            name = etree.QName(document).localname.lower()
            path = os.path.join(schema_dir, name + ".xsd")
            if not os.path.exists(path):
                verdict["error"] = f"no schema for {name}"
            else:
                if name not in schemas:
                    schemas[name] = etree.XMLSchema(etree.parse(path))
                schema = schemas[name]
                verdict["valid"] = schema.validate(document)
                if not verdict["valid"]:
                    verdict["error"] = str(schema.error_log.last_error)
        except etree.XMLSyntaxError as e:
            verdict["error"] = str(e)
        print(json.dumps(verdict))


if __name__ == "__main__":
    main(sys.argv[1:])
