"""gunicorn's own lines (starting, workers booting and exiting, signals, a worker's crash) in
the app's log format, through the app's handler, so that all of a server's standard error is
one format: `logger_class = "feedback_intranet.gunicorn_logs.Logger"` in gunicorn's
configuration, or `--logger-class feedback_intranet.gunicorn_logs.Logger`.

gunicorn's access log stays off (its default): the app writes a line per request itself.
"""

from gunicorn import glogging

from config import server_log_format

from .logs import FORMATTERS, HANDLER


class Logger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        # An error log file or a logging configuration of the operator's own is left as it is.
        if cfg.errorlog != "-" or cfg.logconfig_dict or cfg.logconfig_json or cfg.logconfig:
            return
        # The master has no app: the format is the one the app will read from the environment.
        HANDLER.setFormatter(FORMATTERS[server_log_format()]())
        for handler in [h for h in self.error_log.handlers if getattr(h, "_gunicorn", False)]:
            self.error_log.removeHandler(handler)
        if HANDLER not in self.error_log.handlers:
            self.error_log.addHandler(HANDLER)
