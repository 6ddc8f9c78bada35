/*
 * telltale-xi2: which device each X input event came from, and nothing else.
 *
 * Listens to XInput2 raw events on the root window (XI_RawKeyPress, XI_RawButtonPress,
 * XI_RawMotion); each carries the `sourceid` of the slave device that produced it. The X server's
 * XTEST slave devices ("Virtual core XTEST keyboard" / "... XTEST pointer") are where every
 * XTestFake*Event call lands: remote-control servers (x11vnc, Xvnc's vncconfig paths, xrdp's
 * xorgxrdp input, xdotool) inject there, while a person's keyboard and mouse are physical slaves.
 *
 * Output: one line per event, "<class> <source> <time>" with class k (key press), c (button press
 * of a real button), p (pointer motion or wheel notch); source x (an XTEST device) or d (any other
 * device); time the X server's ms clock. Never a keycode, a button number or a coordinate: the
 * event's `detail` and valuators are read only to tell a wheel notch from a click and are never
 * printed. A first line "ready" says the selection is in place; errors go to stderr, one line.
 *
 * Build: cc -O2 x11-source-devices.c -o telltale-xi2 -lXi -lX11
 */
#include <X11/Xlib.h>
#include <X11/extensions/XInput2.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 1024

/* 1 when the slave device with this id is an XTEST device; refreshed on hierarchy changes. */
static unsigned char is_xtest[MAX_DEVICES];
static unsigned char known[MAX_DEVICES];

static void load_devices(Display *display) {
  int count = 0;
  XIDeviceInfo *devices = XIQueryDevice(display, XIAllDevices, &count);
  memset(is_xtest, 0, sizeof is_xtest);
  memset(known, 0, sizeof known);
  for (int i = 0; i < count; i++) {
    int id = devices[i].deviceid;
    if (id < 0 || id >= MAX_DEVICES) continue;
    known[id] = 1;
    is_xtest[id] = devices[i].name != NULL && strstr(devices[i].name, "XTEST") != NULL;
  }
  XIFreeDeviceInfo(devices);
}

static void set_bit(unsigned char *mask, int bit) { mask[bit >> 3] |= (unsigned char)(1 << (bit & 7)); }

int main(void) {
  /* Die with the agent, even when it is killed without a chance to stop us. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  Display *display = XOpenDisplay(NULL);
  if (display == NULL) {
    fprintf(stderr, "cannot open the X display\n");
    return 2;
  }
  int opcode, first_event, first_error;
  if (!XQueryExtension(display, "XInputExtension", &opcode, &first_event, &first_error)) {
    fprintf(stderr, "the X server has no XInput extension\n");
    return 3;
  }
  /* 2.1: raw events reach the root window of every client, not only a grabbing one. */
  int major = 2, minor = 1;
  if (XIQueryVersion(display, &major, &minor) != Success || (major == 2 && minor < 1)) {
    fprintf(stderr, "the X server does not offer XInput 2.1\n");
    return 3;
  }
  load_devices(display);

  /* Raw events through the master devices (each once, its sourceid naming the slave), and
     hierarchy changes from every device so a newly plugged or created device is classified. */
  unsigned char raw_bits[XIMaskLen(XI_LASTEVENT)];
  unsigned char hierarchy_bits[XIMaskLen(XI_LASTEVENT)];
  memset(raw_bits, 0, sizeof raw_bits);
  memset(hierarchy_bits, 0, sizeof hierarchy_bits);
  set_bit(raw_bits, XI_RawKeyPress);
  set_bit(raw_bits, XI_RawButtonPress);
  set_bit(raw_bits, XI_RawMotion);
  set_bit(hierarchy_bits, XI_HierarchyChanged);
  XIEventMask masks[2] = {
      {.deviceid = XIAllMasterDevices, .mask_len = sizeof raw_bits, .mask = raw_bits},
      {.deviceid = XIAllDevices, .mask_len = sizeof hierarchy_bits, .mask = hierarchy_bits},
  };
  XISelectEvents(display, DefaultRootWindow(display), masks, 2);
  XSync(display, False);
  fputs("ready\n", stdout);
  fflush(stdout);

  for (;;) {
    XEvent event;
    XNextEvent(display, &event);
    XGenericEventCookie *cookie = &event.xcookie;
    if (cookie->type != GenericEvent || cookie->extension != opcode || !XGetEventData(display, cookie)) continue;
    char line_class = 0;
    int source = -1;
    unsigned long time = 0;
    if (cookie->evtype == XI_HierarchyChanged) {
      load_devices(display);
    } else {
      XIRawEvent *raw = (XIRawEvent *)cookie->data;
      source = raw->sourceid;
      time = raw->time;
      if (cookie->evtype == XI_RawKeyPress) {
        line_class = 'k';
      } else if (cookie->evtype == XI_RawMotion) {
        line_class = 'p';
      } else if (cookie->evtype == XI_RawButtonPress) {
        /* Buttons 4-7 are wheel notches (X's core protocol convention), not clicks. */
        line_class = raw->detail >= 4 && raw->detail <= 7 ? 'p' : 'c';
      }
    }
    XFreeEventData(display, cookie);
    if (line_class == 0) continue;
    if (source >= 0 && source < MAX_DEVICES && !known[source]) load_devices(display);
    char kind = source >= 0 && source < MAX_DEVICES && is_xtest[source] ? 'x' : 'd';
    printf("%c %c %lu\n", line_class, kind, time);
    /* Batch lines while more events are queued; flush once the queue is drained. */
    if (XPending(display) == 0 && fflush(stdout) == EOF) return 0;
  }
}
