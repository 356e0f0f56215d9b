#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Send one QMP command to a running QEMU and print its answer.

  qmp.py SOCKET COMMAND [JSON-ARGUMENTS]

  qmp.py /tmp/q/qmp.sock system_powerdown    press the power button
  qmp.py /tmp/q/qmp.sock query-status
  qmp.py /tmp/q/qmp.sock quit

QEMU must run with -qmp unix:SOCKET,server=on,wait=off. Waits up to
--timeout seconds for the socket to accept. Exit status 1 on a QMP error.
"""

import argparse
import json
import socket
import sys
import time


class Qmp:
    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rw", encoding="utf-8", newline="\n")
        self.read()                       # the greeting
        self.execute("qmp_capabilities")

    def read(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("QEMU closed the QMP connection")
        return json.loads(line)

    def execute(self, command, arguments=None):
        msg = {"execute": command}
        if arguments:
            msg["arguments"] = arguments
        self.file.write(json.dumps(msg) + "\n")
        self.file.flush()
        while True:
            answer = self.read()
            if "return" in answer or "error" in answer:
                return answer
            # Anything else is an asynchronous event: not our answer.


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("socket")
    ap.add_argument("command")
    ap.add_argument("arguments", nargs="?", default=None,
                    help="a JSON object")
    ap.add_argument("--timeout", type=float, default=30)
    args = ap.parse_args()
    arguments = json.loads(args.arguments) if args.arguments else None
    try:
        answer = Qmp(args.socket, args.timeout).execute(args.command,
                                                        arguments)
    except (OSError, ConnectionError) as e:
        if args.command == "quit" and isinstance(e, ConnectionError):
            return 0    # QEMU quit before it answered
        print(f"qmp: {e}", file=sys.stderr)
        return 1
    if "error" in answer:
        print(f"qmp: {answer['error'].get('desc', answer)}", file=sys.stderr)
        return 1
    print(json.dumps(answer["return"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
