"""A one-line progress bar (tqdm is not on every machine kiln runs on)."""
import sys
import time


def _clock(seconds):
    seconds = max(0, int(round(seconds)))
    return "%dm%02ds" % (seconds // 60, seconds % 60) if seconds >= 60 else "%ds" % seconds


class Progress:
    """Redraws `label [####----] step/total  <fields>  N.N step/s  ETA` in place with \\r on a terminal.

    Into a file or pipe (a CI log) it prints a plain line at each tenth of the run instead, so logs hold
    no carriage returns. ETA is the lower of the step-based and the time-limit-based estimate.
    """

    def __init__(self, label, total, time_limit_s=None, stream=None, width=24):
        self.label, self.total, self.time_limit_s, self.width = label, total, time_limit_s, width
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last_draw = 0.0
        self.last_tenth = -1

    def elapsed(self):
        return time.monotonic() - self.start

    def update(self, step, **fields):
        """Reports that `step` of `total` steps are done; `fields` (e.g. loss=0.01) are shown after it."""
        now = self.elapsed()
        tenth = step * 10 // max(self.total, 1)
        if self.tty and now - self.last_draw < 0.1 and step < self.total:
            return
        if not self.tty and tenth == self.last_tenth and step < self.total:
            return
        self.last_draw, self.last_tenth = now, tenth
        rate = step / now if now > 0 else 0.0
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        if self.time_limit_s is not None:
            eta = min(eta, max(0.0, self.time_limit_s - now))
        done = self.width * step // max(self.total, 1)
        extra = "  ".join("%s %.4g" % kv for kv in fields.items())
        line = "%s [%s%s] %d/%d  %s  %.1f step/s  ETA %s" % (
            self.label, "#" * done, "-" * (self.width - done), step, self.total, extra, rate,
            _clock(eta) if eta != float("inf") else "?")
        self.stream.write(("\r" + line + "\x1b[K") if self.tty else line + "\n")
        self.stream.flush()

    def close(self, note=""):
        if self.tty:
            self.stream.write("\n")
        if note:
            self.stream.write(note + "\n")
        self.stream.flush()
