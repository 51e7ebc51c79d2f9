"""The training progress bar: tqdm on a terminal; into a file or pipe (a CI log) one plain line at each
tenth of the run, formatted by tqdm too, so logs hold no carriage returns."""
import sys
import time

from tqdm import tqdm


class Progress:
    """`label [####----] step/total [elapsed<ETA, rate] <fields>`; with a time limit, the time left under
    it is one of the fields (tqdm's ETA counts steps only)."""

    def __init__(self, label, total, time_limit_s=None, stream=None):
        self.label, self.total, self.time_limit_s = label, total, time_limit_s
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last_tenth = -1
        self.bar = tqdm(total=total, desc=label, unit="step", file=self.stream, dynamic_ncols=True,
                        disable=not self.tty)

    def elapsed(self):
        return time.monotonic() - self.start

    def _fields(self, fields):
        shown = {k: "%.4g" % v if isinstance(v, float) else v for k, v in fields.items()}
        if self.time_limit_s is not None:
            shown["limit in"] = "%.0fs" % max(0.0, self.time_limit_s - self.elapsed())
        return shown

    def update(self, step, **fields):
        """Reports that `step` of `total` steps are done; `fields` (e.g. loss=0.01) are shown after it."""
        if self.tty:
            self.bar.set_postfix(self._fields(fields), refresh=False)
            self.bar.update(step - self.bar.n)
            return
        tenth = step * 10 // max(self.total, 1)
        if tenth == self.last_tenth and step < self.total:
            return
        self.last_tenth = tenth
        postfix = ", ".join("%s=%s" % kv for kv in self._fields(fields).items())
        line = tqdm.format_meter(step, self.total, self.elapsed(), ncols=100, prefix=self.label, unit="step", ascii=True,
                                 postfix=postfix)
        self.stream.write(line + "\n")
        self.stream.flush()

    def close(self, note=""):
        self.bar.close()
        if note:
            self.stream.write(note + "\n")
        self.stream.flush()
