"""The controls the evidence pack maps runs to: SOC 2 A1.2 and A1.3, HIPAA 164.308(a)(7)(ii)(A)-(D), PCI DSS
12.10.1 and 12.10.2, GDPR Art. 32(1)(b)-(d), each with what it asks (its own words; the sources are cited in
docs/evidence-pack.md), the kinds of run it requires (each must have a passing run in the period) and the
kinds that support it.

A control is ``evidenced`` when each kind it requires has a passing run and no gap of a required kind
touches it, ``gap`` when one does, ``no evidence`` otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Control:
    id: str
    framework: str
    ref: str
    title: str
    asks: str  # what the control asks, in its own words (docs/evidence-pack.md cites the source)
    requires: tuple[str, ...]  # kinds of evidence that must pass in the period
    supports: tuple[str, ...] = ()  # kinds that also evidence it when present


CONTROLS: tuple[Control, ...] = (
    Control(
        "SOC2-A1.2",
        "SOC 2",
        "A1.2",
        "Environmental protections, backups and recovery infrastructure",
        "The entity authorizes, designs, develops or acquires, implements, operates, approves, maintains, and "
        "monitors environmental protections, software, data back-up processes, and recovery infrastructure to "
        "meet its objectives.",
        ("backup-verification", "restore-test"),
        ("readiness", "failover"),
    ),
    Control(
        "SOC2-A1.3",
        "SOC 2",
        "A1.3",
        "Recovery plan testing",
        "The entity tests recovery plan procedures supporting system recovery to meet its objectives.",
        ("failover", "failback", "restore-test"),
    ),
    Control(
        "HIPAA-164.308(a)(7)(ii)(A)",
        "HIPAA",
        "164.308(a)(7)(ii)(A)",
        "Data backup plan (required)",
        "Establish and implement procedures to create and maintain retrievable exact copies of electronic "
        "protected health information.",
        ("backup-verification", "restore-test"),
    ),
    Control(
        "HIPAA-164.308(a)(7)(ii)(B)",
        "HIPAA",
        "164.308(a)(7)(ii)(B)",
        "Disaster recovery plan (required)",
        "Establish (and implement as needed) procedures to restore any loss of data.",
        ("restore-test", "failover"),
    ),
    Control(
        "HIPAA-164.308(a)(7)(ii)(C)",
        "HIPAA",
        "164.308(a)(7)(ii)(C)",
        "Emergency mode operation plan (required)",
        "Establish (and implement as needed) procedures to enable continuation of critical business processes "
        "for protection of the security of electronic protected health information while operating in "
        "emergency mode.",
        ("failover",),
        ("failback", "readiness"),
    ),
    Control(
        "HIPAA-164.308(a)(7)(ii)(D)",
        "HIPAA",
        "164.308(a)(7)(ii)(D)",
        "Testing and revision procedures (addressable)",
        "Implement procedures for periodic testing and revision of contingency plans.",
        ("failover", "restore-test"),
        ("failback", "backup-verification"),
    ),
    Control(
        "PCI-12.10.1",
        "PCI DSS v4.0.1",
        "12.10.1",
        "Incident response plan ready to be activated",
        "An incident response plan exists and is ready to be activated in the event of a suspected or confirmed "
        "security incident; it includes business recovery and continuity procedures and data backup processes.",
        ("failover", "backup-verification"),
        ("readiness",),
    ),
    Control(
        "PCI-12.10.2",
        "PCI DSS v4.0.1",
        "12.10.2",
        "Incident response plan reviewed and tested at least once every 12 months",
        "At least once every 12 months, the security incident response plan is reviewed and the content is "
        "updated as needed, and tested, including all elements listed in Requirement 12.10.1.",
        ("failover",),
        ("failback", "restore-test"),
    ),
    Control(
        "GDPR-32(1)(b)",
        "GDPR",
        "Art. 32(1)(b)",
        "Ongoing availability and resilience",
        "The ability to ensure the ongoing confidentiality, integrity, availability and resilience of processing "
        "systems and services.",
        ("backup-verification",),
        ("readiness", "failover"),
    ),
    Control(
        "GDPR-32(1)(c)",
        "GDPR",
        "Art. 32(1)(c)",
        "Timely restore after an incident",
        "The ability to restore the availability and access to personal data in a timely manner in the event of "
        "a physical or technical incident.",
        ("restore-test", "failover"),
    ),
    Control(
        "GDPR-32(1)(d)",
        "GDPR",
        "Art. 32(1)(d)",
        "Regular testing of the measures",
        "A process for regularly testing, assessing and evaluating the effectiveness of technical and "
        "organisational measures for ensuring the security of the processing.",
        ("failover", "restore-test", "backup-verification"),
        ("failback", "readiness"),
    ),
)


def assess(control: Control, items: list[dict[str, Any]], gaps: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = control.requires + control.supports
    evidence = [i["name"] for i in items if i["kind"] in kinds and i["tested"]]
    touching = [n for n, g in enumerate(gaps) if control.id in g["controls"] and g["kind"] in control.requires]
    passing = {k: any(i["kind"] == k and i["passed"] for i in items) for k in control.requires}
    status = "gap" if touching else "evidenced" if all(passing.values()) else "no evidence"
    return {
        "id": control.id,
        "framework": control.framework,
        "ref": control.ref,
        "title": control.title,
        "asks": control.asks,
        "requires": list(control.requires),
        "supports": list(control.supports),
        "status": status,
        "evidence": evidence,
        "passing": sum(1 for i in items if i["kind"] in kinds and i["passed"]),
        "gaps": touching,
    }
