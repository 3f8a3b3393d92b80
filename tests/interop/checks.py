"""Check bookkeeping for the interoperability helpers in tests/interop/: each check prints
"ok   NAME" or "FAIL NAME: why" on a line of its own, and the failures are counted."""


class Checks:
    def __init__(self):
        self.failed = 0

    def ok(self, name, cond, why=""):
        if cond:
            print("ok   " + name)
        else:
            print("FAIL %s: %s" % (name, str(why).replace("\n", " | ")))
            self.failed += 1
        return cond

    def run(self, name, fn):
        """fn() raises (InvalidSignature, ValueError, ...) on failure."""
        try:
            fn()
        except Exception as e:  # any exception is this check's failure, named
            return self.ok(name, False, "%s %s" % (type(e).__name__, e))
        return self.ok(name, True)
