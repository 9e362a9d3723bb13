# @on_error targets: fail, continue, or a later step in the same or an enclosing block.
version: dsl/v1
workflow: on-error
steps:
  - a(core.log):
      message: "a"
      @on_error: done
  - b(core.log):
      message: "b"
      @on_error: continue
  - when true:  # W: TM0603
      - c(core.log):
          message: "c"
          @on_error: done
      - d(core.log):
          message: "d"
          @on_error: inner  # E: TM0409
  - for i in [1, 2]:
      - e(core.log):
          message: i
          @on_error: f
      - f(core.log):
          message: i
          @on_error: done  # E: TM0409
  - parallel:
      - g(core.log):
          message: "g"
          @on_error: h  # E: TM0409
      - h(core.log):
          message: "h"
          @on_error: fail
  - when false:  # W: TM0603
      - inner(core.log): {message: "inner"}
  - done(core.log):
      message: "done"
      @on_error: a  # E: TM0409
