/*
 * xtest-inject: replay a timed input schedule through the XTEST extension, for integration tests.
 *
 * Usage: xtest-inject STEP...   where each STEP is one of
 *   down:KEYSYM@MS   up:KEYSYM@MS   move:X,Y@MS   press:BUTTON@MS   release:BUTTON@MS
 * MS is the offset from the start in milliseconds. Steps are slept to with absolute CLOCK_MONOTONIC
 * deadlines (no drift accumulates) and each event is flushed with XSync, so injected timing is
 * precise to well under a millisecond, unlike xdotool whose per-command round trips add ~10-15 ms.
 * Build: gcc -O2 -o xtest-inject xtest-inject.c -lX11 -lXtst
 */
#include <X11/Xlib.h>
#include <X11/extensions/XTest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_until(const struct timespec *start, long offset_ms) {
  struct timespec deadline = *start;
  deadline.tv_sec += offset_ms / 1000;
  deadline.tv_nsec += (offset_ms % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec += 1;
    deadline.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL) != 0) {
  }
}

int main(int argc, char **argv) {
  Display *display = XOpenDisplay(NULL);
  if (!display) {
    fprintf(stderr, "xtest-inject: cannot open display\n");
    return 2;
  }
  int event_base, error_base, major, minor;
  if (!XTestQueryExtension(display, &event_base, &error_base, &major, &minor)) {
    fprintf(stderr, "xtest-inject: no XTEST extension\n");
    return 2;
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 1; i < argc; i++) {
    char kind[16], arg[64];
    long at;
    if (sscanf(argv[i], "%15[^:]:%63[^@]@%ld", kind, arg, &at) != 3) {
      fprintf(stderr, "xtest-inject: bad step '%s'\n", argv[i]);
      return 2;
    }
    sleep_until(&start, at);
    if (strcmp(kind, "down") == 0 || strcmp(kind, "up") == 0) {
      KeySym keysym = XStringToKeysym(arg);
      KeyCode keycode = keysym == NoSymbol ? 0 : XKeysymToKeycode(display, keysym);
      if (keycode == 0) {
        fprintf(stderr, "xtest-inject: unknown keysym '%s'\n", arg);
        return 2;
      }
      XTestFakeKeyEvent(display, keycode, strcmp(kind, "down") == 0, CurrentTime);
    } else if (strcmp(kind, "move") == 0) {
      int x, y;
      if (sscanf(arg, "%d,%d", &x, &y) != 2) {
        fprintf(stderr, "xtest-inject: bad position '%s'\n", arg);
        return 2;
      }
      XTestFakeMotionEvent(display, -1, x, y, CurrentTime);
    } else if (strcmp(kind, "press") == 0 || strcmp(kind, "release") == 0) {
      XTestFakeButtonEvent(display, (unsigned)atoi(arg), strcmp(kind, "press") == 0, CurrentTime);
    } else {
      fprintf(stderr, "xtest-inject: unknown step kind '%s'\n", kind);
      return 2;
    }
    XSync(display, False);
  }
  XCloseDisplay(display);
  return 0;
}
