/*
 * report.c: the child's failure record (see report.h).
 * report_fail runs in the child after clone(2): async-signal-safe only
 * (write(2), _exit(2); signal-safety(7)).
 */
#include "report.h"

#include <errno.h>
#include <unistd.h>

static const char *const step_names[STEP_COUNT] = {
#define STEP_NAME(id, name) [id] = name,
    STEP_LIST(STEP_NAME)
#undef STEP_NAME
};

const char *report_step_name(int step) {
  if (step < 0 || step >= STEP_COUNT)
    return 0;
  return step_names[step];
}

/* child: async-signal-safe only. Read errno before any other call. */
void report_fail(int report_fd, int step, int arg) {
  struct step_report rec = {.step = step, .err = errno, .arg = arg};
  /* A short or failed write leaves the parent with a truncated record,
   * which it reports as such; nothing better can be done here. */
  ssize_t n = write(report_fd, &rec, sizeof rec);
  (void)n;
  _exit(127);
}
