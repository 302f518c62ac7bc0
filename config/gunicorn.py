"""Gunicorn's settings for the web app and the sandbox: `gunicorn -c config/gunicorn.py ...`.

Gunicorn's own lines go through our log formats (config/logging.py): a JSON object a line in
production, a plain line under DEBUG. An access line carries the method, the path without its
query string, the status, the time and the request id: All Orders and the Commerce grid put
buyer names and e-mail addresses in the query string, and a referer carries the previous page's,
so neither is logged (nor the user agent or the client address).

The web app runs gunicorn's sync worker (the Procfile gives no --threads): one request at a
time per process, WEB_CONCURRENCY processes (two per CPU core), behind the TLS proxy that
buffers slow clients. Threads were tried first (two processes of four) and measured worse on a
2-vCPU machine at 32 clients (bench/load_pages.py): a process whose threads share one
interpreter lock computes on one core at a time, and a process could take nearly every
keep-alive connection (one worker 487 CPU ticks, the other 3: the machine 40 % idle, half the
requests per second), while the lock's turns spread the answers' times (Amazon Order Details:
p99 about 300 ms at about 290 requests/s; sync workers: p99 about 120 ms at about 320).
"""

import traceback

from gunicorn.glogging import Logger

from config.env import env_bool, env_log_format
from config.logging import REQUEST_ID_HEADER, JsonFormatter, PersonalDataFilter, PlainFormatter

accesslog = "-"
# No control socket: web and the sandbox (and tests' servers) would share ~/.gunicorn/gunicorn.ctl.
control_socket_disable = True

_PERSONAL_DATA_FILTER = PersonalDataFilter()
# Gunicorn's atom for a response header: {x-request-id}o.
_RESPONSE_REQUEST_ID = "{" + REQUEST_ID_HEADER.lower() + "}o"


class ChannelLogger(Logger):
    """Gunicorn's logger with our formatter, and an access line without personal data."""

    def setup(self, cfg):
        super().setup(cfg)
        is_json = env_log_format(debug=env_bool("DEBUG", True)) == "json"
        formatter = JsonFormatter() if is_json else PlainFormatter()
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)
                    handler.addFilter(_PERSONAL_DATA_FILTER)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            atoms = self.atoms(resp, req, environ, request_time)
            # %(U)s is PATH_INFO: the path without the query string.
            self.access_log.info(
                "%s %s %s %s ms",
                atoms["m"],
                atoms["U"],
                atoms["s"],
                atoms["M"],
                extra={"request_id": atoms.get(_RESPONSE_REQUEST_ID)},
            )
        except Exception:  # noqa: BLE001 - a log line must never fail the request
            self.error(traceback.format_exc())


logger_class = ChannelLogger
