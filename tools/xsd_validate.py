#!/usr/bin/env python3
"""libxml2's verdict (through lxml) on WCO DEC-DMS 2 declarations: the reference the Rust reader is checked against
and the baseline of the parse benchmark. Not used by Aduana at run time.

    tools/xsd_validate.py SCHEMA_DIR FILE...            one JSON line per file: {"file", "valid", "error"}
    tools/xsd_validate.py --bench ROUNDS SCHEMA_DIR FILE...   timing only: files/s and MB/s, schema loaded once
    tools/xsd_validate.py --res SCHEMA_DIR FILE...      RES notifications: SCHEMA_DIR is …/schemas/wco/notification
    tools/xsd_validate.py --cancel SCHEMA_DIR FILE...   invalidations against CANCEL_METADATA.xsd + CANCEL.xsd

SCHEMA_DIR is ../shared/conformance/hmrc-cds-v2/schemas/wco/declaration (DocumentMetaData_2_DMS.xsd, which imports
WCO_DEC_2_DMS.xsd). Needs lxml (pip install lxml).
"""
import json
import os
import sys
import time

from lxml import etree


def main(argv):
    bench = None
    content_schema = "WCO_DEC_2_DMS.xsd"
    content_namespace = "urn:wco:datamodel:WCO:DEC-DMS:2"
    envelope = "DocumentMetaData_2_DMS.xsd"
    if argv and argv[0] == "--cancel":
        content_schema = "CANCEL.xsd"
        envelope = "CANCEL_METADATA.xsd"
        argv = argv[1:]
    if argv and argv[0] == "--res":
        content_schema = "WCO_RES_2_DMS.xsd"
        content_namespace = "urn:wco:datamodel:WCO:RES-DMS:2"
        argv = argv[1:]
    if argv and argv[0] == "--bench":
        bench = int(argv[1])
        argv = argv[2:]
    schema_dir, files = argv[0], argv[1:]
    # The envelope's schema leaves its content to the DEC schema: load both, through a schema importing them.
    directory = os.path.abspath(schema_dir)
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:aduana:xsd-validate">
  <xs:import namespace="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" schemaLocation="file://{directory}/{envelope}"/>
  <xs:import namespace="{content_namespace}" schemaLocation="file://{directory}/{content_schema}"/>
</xs:schema>"""
    schema = etree.XMLSchema(etree.fromstring(wrapper.encode()))
    # No network, no DTD loading, no entity expansion: the same stance as Aduana's reader.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    contents = [(f, open(f, "rb").read()) for f in files]
    if bench:
        total = sum(len(c) for _, c in contents)
        started = time.perf_counter()
        valid = 0
        for _ in range(bench):
            for _, content in contents:
                try:
                    document = etree.fromstring(content, parser)
                    valid += schema.validate(document)
                except etree.XMLSyntaxError:
                    pass
        elapsed = time.perf_counter() - started
        n = len(contents) * bench
        print(json.dumps({"engine": "lxml " + etree.__version__ + " / libxml2 " + ".".join(map(str, etree.LIBXML_VERSION)),
                          "files": n, "valid": valid, "seconds": elapsed,
                          "per_second": n / elapsed, "mb_per_second": total * bench / elapsed / 1e6}))
        return
    for path, content in contents:
        try:
            document = etree.fromstring(content, parser)
            ok = schema.validate(document)
            error = None if ok else str(schema.error_log.last_error)
        except etree.XMLSyntaxError as e:
            ok, error = False, "not well-formed: " + str(e)
        print(json.dumps({"file": path, "valid": bool(ok), "error": error}))


if __name__ == "__main__":
    main(sys.argv[1:])
