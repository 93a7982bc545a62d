#!/usr/bin/env python3
"""Writes a long session script (docs/spec.md §6) for capneg's side-by-side benchmarks.

Usage: gen_script.py ROUNDS > script.jsonl

Each round: the widget asks for a few capabilities (some new, some approved already), the user
approves part of what is asked, the widget acks the notify and sends a gated event. `capneg run`
turns it into a trace of 6 + 8 * ROUNDS events (4 + 6 * ROUNDS once prompt and decision lines are
removed), every line a realistic widget API message: 50,000 rounds make 400,006 events (196 MB).
`capneg_benches::long_script` (benches/src/lib.rs) writes the same bytes for the criterion
benchmarks; benches/scripts/compare.sh uses this script.
"""
import json
import sys

if len(sys.argv) > 2 or (len(sys.argv) == 2 and not sys.argv[1].isdigit()):
    sys.exit("usage: gen_script.py [ROUNDS] > script.jsonl")
rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 60000
types = ["m.room.message#m.text", "m.reaction", "m.room.redaction", "m.sticker",
         "org.example.poll", "org.example.vote", "m.room.message#m.notice", "m.call.invite"]
caps = ["org.matrix.msc2762.send.event:" + t for t in types]
caps += ["org.matrix.msc2762.receive.event:" + t for t in types]
caps += ["m.always_on_screen", "org.matrix.msc2762.timeline:*"]

out = sys.stdout
w = lambda obj: out.write(json.dumps(obj, separators=(",", ":")) + "\n")
w({"session": {"widgetId": "bench-widget", "autoApprove": [caps[0]]}})
w({"widget": {"api": "toWidget", "action": "capabilities",
              "response": {"capabilities": caps[:4]}}})
w({"decision": {"approved": caps[1:3]}})
w({"widget": {"api": "toWidget", "action": "notify_capabilities", "response": {}}})
# The user approves only send capabilities and declines every receive capability, so each round
# (which asks for one receive capability) has something new: every round prompts.
send, receive = caps[:8], caps[8:16]
for i in range(rounds):
    asked = [send[i % 8], send[(i * 5 + 3) % 8], receive[i % 8]]
    w({"widget": {"api": "fromWidget", "requestId": f"r{i}",
                  "action": "org.matrix.msc2974.request_capabilities",
                  "data": {"capabilities": asked}}})
    w({"decision": {"approved": asked[:1]}})
    w({"widget": {"api": "toWidget", "action": "notify_capabilities", "response": {}}})
    w({"widget": {"api": "fromWidget", "requestId": f"g{i}", "action": "send_event",
                  "data": {"type": "m.reaction", "content": {"m.relates_to": {"rel_type": "m.annotation", "key": "👍"}}}}})
