/*
 * Telltale's XTEST injector: replays a schedule of synthetic input with sub-millisecond timing, in
 * one process, so the only timing noise is the X server's (and the relay's, in the lab).
 * Compiled on demand by lab/injector.ts, which also writes the schedules.
 *
 * Usage: injector <schedule-file> [lead-ms]
 *   DISPLAY selects the X server. The whole schedule is parsed before anything is sent, then the
 *   injector prints "start <monotonic-ns> <realtime|normal>" and replays each line at
 *   start + lead-ms + t_ms, sleeping to absolute CLOCK_MONOTONIC deadlines (no drift accumulates)
 *   and flushing each event at once; xdotool's per-command round trips would add 10-35 ms instead.
 *   It asks for SCHED_FIFO priority (best effort).
 *   On completion it prints "done <events> <max-late-us>": the worst wake-up lateness, so a run on an
 *   overloaded machine can be recognised rather than silently trusted.
 *
 * Schedule lines (blank lines and lines starting with '#' are ignored):
 *   <t_ms> down <keysym-name>     key press, e.g. "120.5 down a"
 *   <t_ms> up <keysym-name>       key release
 *   <t_ms> move <x> <y>           absolute pointer motion on screen 0
 *   <t_ms> click <button>         button press and release
 *   <t_ms> press <button>         button press
 *   <t_ms> release <button>       button release
 *   t_ms is a non-decreasing decimal number of milliseconds from the start.
 *
 * Build: gcc -O2 injector.c -o injector -lXtst -lX11
 */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum Kind { KEY_DOWN, KEY_UP, MOVE, CLICK, PRESS, RELEASE };

struct Step {
  double t_ms;
  enum Kind kind;
  int a; /* keycode, x, or button */
  int b; /* y */
};

static long long ns_of(const struct timespec *ts) { return (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec; }

static struct timespec ts_of(long long ns) {
  struct timespec ts;
  ts.tv_sec = ns / 1000000000LL;
  ts.tv_nsec = ns % 1000000000LL;
  return ts;
}

static int button_kind(const char *verb, enum Kind *kind) {
  if (strcmp(verb, "click") == 0) *kind = CLICK;
  else if (strcmp(verb, "press") == 0) *kind = PRESS;
  else if (strcmp(verb, "release") == 0) *kind = RELEASE;
  else return 0;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: injector <schedule-file> [lead-ms]\n");
    return 2;
  }
  double lead_ms = argc > 2 ? atof(argv[2]) : 200.0;
  Display *dpy = XOpenDisplay(NULL);
  if (!dpy) {
    fprintf(stderr, "injector: cannot open display\n");
    return 3;
  }
  int ev, er, maj, min;
  if (!XTestQueryExtension(dpy, &ev, &er, &maj, &min)) {
    fprintf(stderr, "injector: XTEST extension missing\n");
    return 3;
  }
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    fprintf(stderr, "injector: cannot open %s: %s\n", argv[1], strerror(errno));
    return 2;
  }
  size_t cap = 1024, n = 0;
  struct Step *steps = malloc(cap * sizeof *steps);
  char line[256];
  int lineno = 0;
  double last_t = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0' || *p == '\n' || *p == '#') continue;
    double t;
    char verb[16], arg1[64], arg2[64];
    int got = sscanf(p, "%lf %15s %63s %63s", &t, verb, arg1, arg2);
    if (got < 3 || t < last_t) {
      fprintf(stderr, "injector: bad line %d: %s", lineno, line);
      return 2;
    }
    last_t = t;
    if (n == cap) {
      cap *= 2;
      steps = realloc(steps, cap * sizeof *steps);
    }
    struct Step *s = &steps[n];
    s->t_ms = t;
    s->b = 0;
    if (strcmp(verb, "down") == 0 || strcmp(verb, "up") == 0) {
      KeySym sym = XStringToKeysym(arg1);
      KeyCode code = sym == NoSymbol ? 0 : XKeysymToKeycode(dpy, sym);
      if (code == 0) {
        fprintf(stderr, "injector: unknown keysym '%s' on line %d\n", arg1, lineno);
        return 2;
      }
      s->kind = verb[0] == 'd' ? KEY_DOWN : KEY_UP;
      s->a = code;
    } else if (strcmp(verb, "move") == 0 && got == 4) {
      s->kind = MOVE;
      s->a = atoi(arg1);
      s->b = atoi(arg2);
    } else if (button_kind(verb, &s->kind)) {
      s->a = atoi(arg1);
    } else {
      fprintf(stderr, "injector: bad verb on line %d: %s", lineno, line);
      return 2;
    }
    n++;
  }
  fclose(f);

  /* Best effort: real-time priority and locked pages keep wake-ups on time on a busy machine.
   * Without the privilege this silently stays a normal process; the lateness report tells. */
  struct sched_param param = {.sched_priority = 50};
  int realtime = sched_setscheduler(0, SCHED_FIFO, &param) == 0;
  mlockall(MCL_CURRENT | MCL_FUTURE);

  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long start = ns_of(&now) + (long long)(lead_ms * 1e6);
  printf("start %lld %s\n", start, realtime ? "realtime" : "normal");
  fflush(stdout);
  long long max_late = 0;
  for (size_t i = 0; i < n; i++) {
    long long due = start + (long long)(steps[i].t_ms * 1e6);
    struct timespec due_ts = ts_of(due);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due_ts, NULL) == EINTR) {
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long late = ns_of(&now) - due;
    if (late > max_late) max_late = late;
    unsigned a = (unsigned)steps[i].a;
    switch (steps[i].kind) {
      case KEY_DOWN: XTestFakeKeyEvent(dpy, a, True, CurrentTime); break;
      case KEY_UP: XTestFakeKeyEvent(dpy, a, False, CurrentTime); break;
      case MOVE: XTestFakeMotionEvent(dpy, -1, steps[i].a, steps[i].b, CurrentTime); break;
      case PRESS: XTestFakeButtonEvent(dpy, a, True, CurrentTime); break;
      case RELEASE: XTestFakeButtonEvent(dpy, a, False, CurrentTime); break;
      case CLICK:
        XTestFakeButtonEvent(dpy, a, True, CurrentTime);
        XTestFakeButtonEvent(dpy, a, False, CurrentTime);
        break;
    }
    XFlush(dpy);
  }
  XSync(dpy, False);
  printf("done %zu %lld\n", n, max_late / 1000);
  fflush(stdout);
  XCloseDisplay(dpy);
  free(steps);
  return 0;
}
