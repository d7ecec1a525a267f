#!/usr/bin/env python3
"""A department's subscriber: reads its own unit's case events from Xinfang's NATS feed.

Each unit of the directory has a NATS user `dept-<unit>` and, on each of the two event
streams (XINFANG_ROUTING, XINFANG_SUPERVISION), a durable consumer of the same name that the
bureau's operator declares, filtered to the unit's subjects (a town's also to its villages').
The user may only read through those consumers and acknowledge: it cannot subscribe to event
subjects, read a stream directly, or make a consumer of its own.

An event is a protobuf message in the payload with CloudEvents headers (binary mode):
`ce-type` is the message's full protobuf name, `ce-id` the event id (the same on a
redelivery: deduplicate by it), `ce-subject` the case id, `ce-time` when it happened.

    ./generate.sh generated
    python3 subscriber.py --url nats://127.0.0.1:4222 --unit zhaocun \
        --password-file .data/nats/dept-zhaocun.password --proto generated

Prints one JSON line per event and acknowledges it once printed; an event it cannot decode is
printed with its raw size and left unacknowledged, so it comes again (and the bureau sees it
pending) instead of being lost.
"""

import argparse
import asyncio
import json
import pathlib
import sys

import nats
from nats.errors import TimeoutError as NatsTimeout

STREAMS = ("XINFANG_ROUTING", "XINFANG_SUPERVISION")
EVENT_MODULES = (
    "xinfang.routing.v1.events_pb2",
    "xinfang.supervision.v1.events_pb2",
)


def message_classes(proto_dir):
    """ce-type (a full protobuf name) -> the generated message class."""
    sys.path.insert(0, str(proto_dir))
    import importlib

    from google.protobuf import descriptor_pool, message_factory

    for module in EVENT_MODULES:
        importlib.import_module(module)
    pool = descriptor_pool.Default()

    def lookup(name):
        try:
            return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))
        except KeyError:
            return None

    return lookup


def decode(msg, lookup):
    """The event as a dict: its CloudEvents attributes and its decoded data."""
    from google.protobuf import json_format

    headers = msg.headers or {}
    event = {
        "id": headers.get("ce-id"),
        "type": headers.get("ce-type"),
        "case_id": headers.get("ce-subject"),
        "time": headers.get("ce-time"),
        "subject": msg.subject,
    }
    cls = lookup(event["type"] or "")
    if cls is None:
        return event, False
    data = cls()
    try:
        data.ParseFromString(msg.data)
    except Exception:  # a payload that does not parse: left unacknowledged, not lost
        return event, False
    event["data"] = json_format.MessageToDict(data, preserving_proto_field_name=True)
    return event, True


async def run(args):
    password = pathlib.Path(args.password_file).read_text().strip()
    user = f"dept-{args.unit}"
    nc = await nats.connect(
        args.url,
        user=user,
        password=password,
        # Replies come on the department's own prefix: the only one it may subscribe to.
        inbox_prefix=f"_INBOX_{user}",
        allow_reconnect=False,
    )
    js = nc.jetstream()
    lookup = message_classes(args.proto)
    feeds = [await js.pull_subscribe_bind(user, stream=stream) for stream in STREAMS]
    printed = 0
    idle = 0
    while printed < args.max and idle < args.idle_rounds:
        got_any = False
        for feed in feeds:
            try:
                batch = await feed.fetch(batch=50, timeout=args.fetch_timeout)
            except NatsTimeout:
                continue
            for msg in batch:
                event, decoded = decode(msg, lookup)
                if decoded:
                    print(json.dumps(event, ensure_ascii=False), flush=True)
                    await msg.ack()
                    printed += 1
                else:
                    print(json.dumps({"undecodable": event, "bytes": len(msg.data)}), flush=True)
                got_any = True
        idle = 0 if got_any else idle + 1
    await nc.close()
    return printed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--unit", required=True, help="the unit's directory code, e.g. zhaocun")
    parser.add_argument("--password-file", required=True)
    parser.add_argument("--proto", default=pathlib.Path(__file__).parent / "generated",
                        help="the folder generate.sh wrote the Python classes into")
    parser.add_argument("--max", type=int, default=sys.maxsize,
                        help="stop after this many events")
    parser.add_argument("--idle-rounds", type=int, default=sys.maxsize,
                        help="stop after this many rounds with nothing new")
    parser.add_argument("--fetch-timeout", type=float, default=2.0)
    args = parser.parse_args()
    printed = asyncio.run(run(args))
    print(f"{printed} event(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
