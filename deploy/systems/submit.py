#!/usr/bin/env python3
"""An external system's submission over NATS (the surge channel), with nats-py.

The online petition platform, or a higher bureau's system, has a NATS user of its own
(`xinfang dev nats-users --submitter <system>=<channel>`): it may publish only on
`xinfang.v1.submissions.<channel>.<system>` and read only `xinfang.v1.receipts.<system>.>`
and replies on its own inbox prefix `_INBOX_<system>`. It publishes a
`xinfang.intake.v1.Submission` (protobuf) with a JetStream publish — the server's
acknowledgement means the submission is queued durably — and waits for the
`SubmissionReceipt` on `xinfang.v1.receipts.<system>.<request_id>`: the case number and the
petitioner's query code, or every wrong field with why.

    ../departments/generate.sh generated
    python3 submit.py --url nats://127.0.0.1:4222 --system online-platform --channel online \
        --password-file .data/nats/online-platform.password --proto generated petition.json

`petition.json` is a `xinfang.v1.Petition` in protobuf's JSON mapping. Prints the receipt as
one JSON line; exits 0 when registered, 1 when rejected, 2 when no receipt came. No receipt
(a timeout) is safe to retry: submit the same request id again (`--request-id`), and the
petition is registered once; the new receipt's query code replaces the old one.
"""

import argparse
import asyncio
import json
import pathlib
import sys
import uuid

import nats


async def submit(args):
    sys.path.insert(0, str(args.proto))
    from google.protobuf import json_format

    from xinfang.intake.v1 import submission_pb2
    from xinfang.v1 import petition_pb2

    petition = json_format.Parse(args.petition.read_text(encoding="utf-8"), petition_pb2.Petition())
    request_id = args.request_id or str(uuid.uuid4())
    submission = submission_pb2.Submission(request_id=request_id, petition=petition)

    password = args.password_file.read_text().strip()
    client = await nats.connect(
        args.url, user=args.system, password=password, inbox_prefix=f"_INBOX_{args.system}"
    )
    try:
        # Subscribe before publishing: the receipt may come at once.
        receipts = await client.subscribe(f"xinfang.v1.receipts.{args.system}.{request_id}")
        jetstream = client.jetstream()
        await jetstream.publish(
            f"xinfang.v1.submissions.{args.channel}.{args.system}",
            submission.SerializeToString(),
        )
        try:
            message = await receipts.next_msg(timeout=args.timeout)
        except nats.errors.TimeoutError:
            print(json.dumps({"request_id": request_id, "error": "no receipt; submit again with this request id"}))
            return 2
        receipt = submission_pb2.SubmissionReceipt()
        receipt.ParseFromString(message.data)
        print(json.dumps(json_format.MessageToDict(receipt), ensure_ascii=False))
        return 0 if receipt.WhichOneof("outcome") == "accepted" else 1
    finally:
        await client.drain()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="nats://127.0.0.1:4222")
    parser.add_argument("--system", required=True, help="the system's NATS user")
    parser.add_argument("--channel", required=True, help="online, letter, visit, phone, leader-mailbox or upstream")
    parser.add_argument("--password-file", type=pathlib.Path, required=True)
    parser.add_argument("--proto", type=pathlib.Path, required=True, help="the folder generate.sh wrote")
    parser.add_argument("--request-id", help="reuse to retry a submission whose receipt was lost")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the receipt")
    parser.add_argument("petition", type=pathlib.Path, help="a xinfang.v1.Petition as JSON")
    args = parser.parse_args()
    sys.exit(asyncio.run(submit(args)))


if __name__ == "__main__":
    main()
