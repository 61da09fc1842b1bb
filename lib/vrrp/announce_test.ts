import { assertEquals } from "../../tests/helpers/assert.ts";
import { FakeClock } from "../runtime/clock.ts";
import { Announcer, type AnnounceTarget, type AnnounceTiming } from "./announce.ts";

const TARGETS: AnnounceTarget[] = [
  {
    ifname: "eth0",
    ifindex: 2,
    mac: Uint8Array.of(2, 0, 0, 0, 0, 1),
    family: "ipv4",
    address: Uint8Array.of(10, 0, 0, 50),
  },
  {
    ifname: "eth0",
    ifindex: 2,
    mac: Uint8Array.of(2, 0, 0, 0, 0, 1),
    family: "ipv4",
    address: Uint8Array.of(10, 0, 0, 51),
  },
];

function setup(timing: AnnounceTiming) {
  const clock = new FakeClock();
  const sent: number[] = [];
  const port = {
    send: () => {
      sent.push(clock.now());
      return true;
    },
  };
  return { clock, sent, a: new Announcer(clock, port, timing) };
}

const BASE: AnnounceTiming = { repeat: 5, delayMs: 5000, refreshMs: 0, intervalMs: 0 };

Deno.test("announce: 5 per VIP at once, 5 more after garp_master_delay", () => {
  const { clock, sent, a } = setup(BASE);
  a.start(() => TARGETS);
  assertEquals(sent.length, 10);
  clock.advance(4999);
  assertEquals(sent.length, 10);
  clock.advance(1);
  assertEquals(sent.length, 20);
  clock.advance(60_000);
  assertEquals(sent.length, 20);
});

Deno.test("announce: garp_master_refresh_repeat announcements per refresh", () => {
  const { clock, sent, a } = setup({ ...BASE, delayMs: 0, refreshMs: 10_000, refreshRepeat: 3 });
  a.start(() => TARGETS);
  assertEquals(sent.length, 10);
  clock.advance(10_000);
  assertEquals(sent.length, 16);
  clock.advance(10_000);
  assertEquals(sent.length, 22);
  a.stop();
  clock.advance(30_000);
  assertEquals(sent.length, 22);
});

Deno.test("announce: refresh repeat defaults to 1", () => {
  const { clock, sent, a } = setup({ ...BASE, delayMs: 0, refreshMs: 1000 });
  a.start(() => TARGETS);
  clock.advance(1000);
  assertEquals(sent.length, 12);
});

Deno.test("announce: a lower-priority advert: garp_lower_prio_repeat now and after the delay", () => {
  const { clock, sent, a } = setup({ ...BASE, lowerPrioRepeat: 2, lowerPrioDelayMs: 3000 });
  a.lowerPriority(() => TARGETS);
  assertEquals(sent.length, 4);
  clock.advance(3000);
  assertEquals(sent.length, 8);
  // Leaving MASTER cancels the delayed burst.
  a.lowerPriority(() => TARGETS);
  a.stop();
  clock.advance(3000);
  assertEquals(sent.length, 12);
});

Deno.test("announce: garp_lower_prio_repeat 0 sends nothing", () => {
  const { clock, sent, a } = setup({ ...BASE, lowerPrioRepeat: 0, lowerPrioDelayMs: 3000 });
  a.lowerPriority(() => TARGETS);
  clock.advance(5000);
  assertEquals(sent.length, 0);
});
