#!/usr/bin/env python3
"""Synthetic partner exports in the documented shapes, for benchmarks.

Usage: gen-events.py SHAPE COUNT [DEVICES]  (writes to stdout)

Threats have lifecycles: every threat id is detected, and a quarter of them are
resolved by a later record of the same id, so about 1.33 events per threat; one
record in eight is a device-status record. `lookout-distinct` is the worst case
for memory: every event a new threat id (no lifecycle at all).
"""
import json
import sys

shape, n = sys.argv[1], int(sys.argv[2])
devices = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
w = sys.stdout.write
dump = lambda o: json.dumps(o, separators=(",", ":"))
SEV = ["LOW", "MEDIUM", "HIGH", "NONE"]


def iso(i):
    return "2025-02-%02dT%02d:%02d:%02d.000Z" % (1 + (i // 86400) % 28, (i // 3600) % 24, (i // 60) % 60, i % 60)


def plan(i):
    """Record i → (device, threat number, resolved?, status record?)."""
    if i % 8 == 7:
        return (i % devices, None, False, True)
    t = i - i // 8  # threat-record ordinal
    # Every fourth threat gets a later RESOLVED record: threats 4k+3 resolve threat 4k.
    if t % 4 == 3:
        return ((t - 3) % devices, t - 3, True, False)
    return (t % devices, t, False, False)


def lookout_v1(i):
    d, t, res, st = plan(i)
    tgt = {"type": "DEVICE", "id": "dev-%d" % d, "platform": "ANDROID"}
    if st:
        return {"type": "DEVICE", "id": str(i), "eventTime": iso(i), "changeType": "UPDATED", "actor": {"type": "SYSTEM"},
                "details": {"type": "DEVICE_STATUS", "activationStatus": "ACTIVATED", "securityStatus": "SECURE", "protectionStatus": "PROTECTED"},
                "target": tgt}
    return {"type": "THREAT", "id": str(i), "eventTime": iso(i), "changeType": "UPDATED" if res else "CREATED",
            "actor": {"type": "DEVICE", "id": "dev-%d" % d},
            "details": {"type": "APPLICATION", "id": "t-%d" % t, "action": "RESOLVED" if res else "DETECTED",
                        "severity": SEV[t % 4], "classifications": ["TROJAN"], "packageName": "com.x"}, "target": tgt}


def lookout_v2(i):
    d, t, res, st = plan(i)
    dev = "dev-%d" % d
    if st:
        return {"id": "e%d" % i, "created_time": iso(i), "type": "DEVICE", "change_type": "UPDATED",
                "device": {"guid": dev, "platform": "IOS", "status": {"security_status": "SECURE", "activation_status": "ACTIVATED"}},
                "target": {"guid": dev, "type": "DEVICE"}, "actor": {"guid": dev, "type": "DEVICE"}}
    return {"id": "e%d" % i, "created_time": iso(i), "type": "THREAT", "change_type": "UPDATED" if res else "CREATED",
            "threat": {"guid": "t-%d" % t, "status": "RESOLVED" if res else "OPEN", "severity": SEV[t % 4], "type": "APPLICATION", "classifications": ["RISKWARE"]},
            "target": {"guid": dev, "type": "THREAT"}, "actor": {"guid": dev, "type": "DEVICE"}}


def zimperium_v2(i):
    d, t, res, st = plan(i)
    if st:
        return {"id": "dev-%d" % d, "riskPosture": 2, "riskPostureName": "ELEVATED", "lastSeen": 1739000000000 + i}
    return {"severity_name": ["LOW", "ELEVATED", "CRITICAL", "LOW"][t % 4], "device_time": 1739000000000 + i, "device_id": "dev-%d" % d,
            "zdevice_id": "z%d" % d, "threat_name": "MITM", "threat_uuid": "u-%d" % t, "threat_status": "Resolved" if res else "Pending"}


def jamf(i):
    d, t, res, st = plan(i)
    if st:
        return {"records": [{"deviceId": "dev-%d" % d, "risk": "LOW"}]}
    return {"event": {"timestamp": iso(i), "alertId": "a%d" % i, "device": {"deviceId": "dev-%d" % d, "os": "IOS 17.2"},
                      "eventType": {"id": 300 + t % 50, "name": "TYPE_%d" % (t % 50), "description": "x"},
                      "severity": [4, 6, 8, 2][t % 4], "action": "Resolved" if res else "Detected"}}


def defender(i):
    d, t, res, st = plan(i)
    if st:
        return {"id": "dev-%d" % d, "riskScore": "Low", "lastSeen": iso(i)}
    return {"id": "da%d" % t, "severity": ["Low", "Medium", "High", "Informational"][t % 4], "status": "Resolved" if res else "New",
            "category": "Malware", "title": "x", "machineId": "dev-%d" % d, "lastUpdateTime": iso(i)}


def checkpoint(i):
    d, t, res, st = plan(i)
    if st:
        return {"internal_id": "dev-%d" % d, "risk": "1", "status": "1", "last_connection": "Fri, 30 Jul 2021 08:27:11 +0000"}
    return {"id": i, "device_id": d, "severity": ["Warning", "Critical", "Information", "Warning"][t % 4], "event": "Ended" if res else "Detected",
            "attack_vector": "Device", "threat_factors": "f%d" % (t // devices), "event_timestamp": iso(i)}


def lookout_distinct(i):
    return {"type": "THREAT", "id": str(i), "eventTime": iso(i), "target": {"type": "DEVICE", "id": "dev-%d" % (i % devices)},
            "details": {"id": "t-%d" % i, "action": ["DETECTED", "DETECTED", "DETECTED", "RESOLVED"][(i // 4) % 4],
                        "severity": SEV[i % 4], "classifications": ["TROJAN"]}}


gen = {"lookout-v1": lookout_v1, "lookout-v2": lookout_v2, "lookout-distinct": lookout_distinct, "zimperium-v2": zimperium_v2,
       "jamf-stream": jamf, "defender-alerts": defender, "checkpoint-alerts": checkpoint}[shape]
if shape == "lookout-v2":
    # Server-sent events, 20 items per data line, as the v2 stream frames them.
    for start in range(0, n, 20):
        w("event:events\nid:%d\ndata:%s\n\n" % (start, dump({"events": [gen(i) for i in range(start, min(n, start + 20))]})))
else:
    for i in range(n):
        w(dump(gen(i)) + "\n")
