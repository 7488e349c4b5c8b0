"""The little SOAP 1.1 that WSAA and WSFEv1 need: envelopes out, safe parsing in.

Hand-written rather than a WSDL toolkit: four operations, fixed shapes, and parsing with
defusedxml so that a hostile answer cannot expand entities.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"


class SoapFault(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def envelope(body: str, namespaces: dict[str, str]) -> bytes:
    declared = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in namespaces.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" {declared}><soap:Header/>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def element(name: str, value: object) -> str:
    """`<name>value</name>` with the value escaped; nested markup is passed as already-built text."""
    return f"<{name}>{escape(str(value))}</{name}>"


def parse(payload: bytes | str) -> Element:
    root: Element = SafeET.fromstring(payload)
    return root


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find(node: Element | None, *path: str) -> Element | None:
    """Descend by local names, ignoring namespaces (AFIP mixes prefixes between services)."""
    current = node
    for name in path:
        if current is None:
            return None
        current = next((child for child in current.iter() if local(child.tag) == name and child is not current), None)
    return current


def text(node: Element | None, *path: str, default: str = "") -> str:
    found = find(node, *path) if path else node
    return (found.text or "").strip() if found is not None and found.text is not None else default


def children(node: Element | None, name: str) -> list[Element]:
    if node is None:
        return []
    return [child for child in node.iter() if local(child.tag) == name]


def raise_fault(root: Element) -> None:
    fault = find(root, "Fault")
    if fault is not None:
        raise SoapFault(text(fault, "faultcode"), text(fault, "faultstring"))


def fault_envelope(code: str, message: str) -> bytes:
    return envelope(f"<soap:Fault>{element('faultcode', code)}{element('faultstring', message)}</soap:Fault>", {})
