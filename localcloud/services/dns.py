"""The Route 53 DNS data plane: a real DNS server on loopback UDP answering from moto's hosted zones.

Route 53 keeps answering DNS queries when its API (a control plane in us-east-1) does not: the answers
follow health checks that Route 53's checkers keep evaluating (Route 53 Developer Guide, "How Amazon
Route 53 chooses records when health checking is configured" and "Active-passive failover"; AWS Fault
Isolation Boundaries whitepaper, "Route 53": the DNS data plane is globally distributed and statically
stable). ``DnsServer`` serves moto's Route 53 record sets at ``127.0.0.1:PORT`` (``address``), so the
product resolves names with an ordinary resolver (dnspython, ``DNS_RESOLVER=HOST:PORT``).

Modeled:
- A and CNAME queries (also any other type a record set holds) for the records of every hosted zone,
  the longest matching zone answering; names are case-insensitive, with or without the final dot;
- simple records are answered as they are (a CNAME record answers every query type for its name, as
  DNS does);
- failover records: the PRIMARY when its health check is healthy (or it has none); else the SECONDARY
  when its health check is healthy (or it has none); when both are unhealthy, the PRIMARY (Route 53
  "considers all records unhealthy ... and responds with the primary" — its documented behaviour when
  every record of a failover pair is unhealthy);
- the health comes from ``Route53HealthSimulator.is_healthy`` (HTTP, CALCULATED, CLOUDWATCH_METRIC,
  Inverted, Disabled), evaluated at the moment of the query on the virtual clock;
- an unknown name inside a hosted zone is NXDOMAIN with the zone authoritative; a name outside every
  zone is REFUSED (Route 53 is not a recursive resolver); the answer's TTL is the record's TTL;
- the server runs in a thread of its own and never goes through the interceptor, so no outage profile
  can touch it (the DNS data plane answers during every outage).

Library: dnspython (``dns.message`` parses and builds the wire format; the loop is the standard
library's ``socketserver.UDPServer``). dnslib has a ready ``DNSServer``, but the product resolves with
dnspython, so one well-kept, typed library serves both sides.

Not modeled: weighted, latency, geolocation, multivalue and alias records (an alias answers nothing
here), TCP, EDNS, DNSSEC, SOA/NS answers, negative-answer TTLs, Route 53's own answer caching.
"""

from __future__ import annotations

import socketserver
from dataclasses import dataclass
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from moto.core import DEFAULT_ACCOUNT_ID
from moto.route53.models import route53_backends

from localcloud.services.route53_health import Route53HealthSimulator
from localcloud.serving import Served


def _canonical(name: str) -> str:
    return name.lower().rstrip(".") + "."


@dataclass(frozen=True)
class Answer:
    """The records answering a query: ``rcode`` NOERROR / NXDOMAIN / REFUSED, and the record sets."""

    rcode: dns.rcode.Rcode
    records: tuple[tuple[str, str, int, tuple[str, ...]], ...]  # (name, type, ttl, values)


class Route53Resolver:
    """Chooses the answer to a query from moto's hosted zones, as Route 53's name servers would."""

    def __init__(self, health: Route53HealthSimulator) -> None:
        self.health = health

    @staticmethod
    def _zones() -> list[Any]:
        return list(route53_backends[DEFAULT_ACCOUNT_ID]["aws"].zones.values())

    def _zone_for(self, name: str) -> Any:
        matching = [z for z in self._zones() if name == _canonical(z.name) or name.endswith("." + _canonical(z.name))]
        return max(matching, key=lambda z: len(z.name), default=None)

    def _healthy(self, record: Any) -> bool:
        check = record.health_check_id
        if not check:
            return True
        try:
            return self.health.is_healthy(check)
        except Exception:  # a deleted or unknown health check: Route 53 treats the record as unhealthy
            return False

    def _choose(self, candidates: list[Any]) -> list[Any]:
        failover = [r for r in candidates if r.failover]
        if not failover:
            return [r for r in candidates if not r.set_identifier]
        primary = [r for r in failover if str(r.failover).upper() == "PRIMARY"]
        secondary = [r for r in failover if str(r.failover).upper() == "SECONDARY"]
        if primary and self._healthy(primary[0]):
            return primary[:1]
        if secondary and self._healthy(secondary[0]):
            return secondary[:1]
        return primary[:1] or secondary[:1]  # every record unhealthy: Route 53 answers the primary

    def resolve(self, qname: str, qtype: str) -> Answer:
        name = _canonical(qname)
        zone = self._zone_for(name)
        if zone is None:
            return Answer(dns.rcode.REFUSED, ())
        at_name = [r for r in zone.rrsets if _canonical(r.name) == name]
        if not at_name:
            return Answer(dns.rcode.NXDOMAIN, ())
        for wanted in (qtype, "CNAME"):
            chosen = self._choose([r for r in at_name if r.type == wanted])
            if chosen:
                records = tuple((name, str(r.type), int(r.ttl or 60), tuple(str(v) for v in r.records)) for r in chosen)
                return Answer(dns.rcode.NOERROR, records)
        return Answer(dns.rcode.NOERROR, ())  # the name exists, not with this type (NODATA)


class DnsServer:
    """Route 53's DNS answers on ``127.0.0.1:PORT`` (UDP), in a daemon thread."""

    def __init__(self, health: Route53HealthSimulator, port: int = 0) -> None:
        self.resolver = Route53Resolver(health)
        self.queries = 0
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = server.answer(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        self._served = Served(socketserver.ThreadingUDPServer(("127.0.0.1", port), Handler), "localcloud-dns")

    @property
    def address(self) -> str:
        """``HOST:PORT`` of the server (what ``DNS_RESOLVER`` is set to)."""
        host, port = self._served.address
        return f"{host}:{port}"

    @property
    def port(self) -> int:
        return self._served.address[1]

    def answer(self, wire: bytes) -> bytes | None:
        """The wire-format response to the wire-format query ``wire`` (None for an unparseable packet)."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # not a DNS message: a real server drops it too
            return None
        self.queries += 1
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        response.flags &= ~dns.flags.RA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        answer = self.resolver.resolve(question.name.to_text(), dns.rdatatype.to_text(question.rdtype))
        response.set_rcode(answer.rcode)
        if answer.rcode == dns.rcode.REFUSED:
            response.flags &= ~dns.flags.AA
        try:
            for name, rtype, ttl, values in answer.records:  # Route 53's values are fully qualified names
                response.answer.append(
                    dns.rrset.from_text_list(
                        name, ttl, dns.rdataclass.IN, rtype, list(values), origin=dns.name.root, relativize=False
                    )
                )
            return response.to_wire()
        except Exception:  # a record value this server cannot render: SERVFAIL, as a name server would say
            failed = dns.message.make_response(query)
            failed.set_rcode(dns.rcode.SERVFAIL)
            return failed.to_wire()

    def start(self) -> DnsServer:
        self._served.start()
        return self

    def pause(self) -> None:
        self._served.pause()

    def stop(self) -> None:
        self._served.stop()
