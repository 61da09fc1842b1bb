import { assertEquals } from "../../tests/helpers/assert.ts";
import type { InstancePlan, Plan } from "./plan.ts";
import { diffReload } from "./reload_diff.ts";
import { instanceSpec, vip } from "../../tests/helpers/vrrp_specs.ts";

function instance(name: string, over: Partial<InstancePlan["spec"]> = {}): InstancePlan {
  return {
    spec: instanceSpec({ name, vips: [vip("10.0.0.100")], ...over }),
    trackInterfaces: [],
    trackScripts: [],
    trackFiles: [],
    trackProcesses: [],
    notify: { master: null, backup: null, fault: null, stop: null, any: null, fifo: null },
    smtpAlert: false,
  };
}

type Plans = Pick<Plan, "instances" | "syncGroups">;
const plans = (...instances: InstancePlan[]): Plans => ({ instances, syncGroups: [] });

Deno.test("reload diff: an unchanged file changes nothing", () => {
  const old = plans(instance("A"), instance("B", { vrid: 52 }));
  const next = plans(instance("A"), instance("B", { vrid: 52 }));
  const d = diffReload(old, next);
  assertEquals(d.unchanged, ["A", "B"]);
  assertEquals(
    [d.hooksChanged, d.reprioritized, d.restarted, d.removed, d.added],
    [[], [], [], [], []],
  );
  assertEquals(d.rebuildGroups, false);
});

Deno.test("reload diff: a priority alone applies in place; to or from 255 restarts", () => {
  const d = diffReload(
    plans(instance("A"), instance("B", { priority: 255 }), instance("C")),
    plans(
      instance("A", { priority: 150 }),
      instance("B", { priority: 200 }),
      instance("C", {
        priority: 255,
      }),
    ),
  );
  assertEquals(d.reprioritized, [{ name: "A", from: 100, to: 150 }]);
  assertEquals(d.restarted, ["B", "C"]);
  assertEquals(d.rebuildGroups, true, "restarted members need their group again");
});

Deno.test("reload diff: a VIP added restarts the instance", () => {
  const a = instance("A");
  const b = instance("A");
  b.spec.vips = [...b.spec.vips, { ...b.spec.vips[0]!, address: "10.0.0.101" }];
  const d = diffReload(plans(a), plans(b));
  assertEquals(d.restarted, ["A"]);
  assertEquals(d.unchanged, []);
});

Deno.test("reload diff: notify and smtp_alert alone keep the instance; with priority too", () => {
  const a = instance("A");
  const hooks = instance("A");
  hooks.notify = { ...hooks.notify, master: "/bin/true" };
  hooks.smtpAlert = true;
  assertEquals(diffReload(plans(a), plans(hooks)).hooksChanged, ["A"]);
  const both = instance("A", { priority: 90 });
  both.notify = hooks.notify;
  const d = diffReload(plans(a), plans(both));
  assertEquals(d.reprioritized, [{ name: "A", from: 100, to: 90 }]);
  assertEquals(d.hooksChanged, []);
});

Deno.test("reload diff: an instance removed stops, a new one starts, in file order", () => {
  const d = diffReload(
    plans(instance("A"), instance("B", { vrid: 52 })),
    plans(instance("C", { vrid: 53 }), instance("A"), instance("D", { vrid: 54 })),
  );
  assertEquals(d.removed, ["B"]);
  assertEquals(d.added, ["C", "D"]);
  assertEquals(d.unchanged, ["A"]);
  assertEquals(d.rebuildGroups, true);
});

Deno.test("reload diff: a changed sync group rebuilds the groups only", () => {
  const group = {
    name: "G",
    members: ["A"],
    notify: { master: null, backup: null, fault: null, stop: null, any: null, fifo: null },
    smtpAlert: false,
  };
  const old = { instances: [instance("A")], syncGroups: [group] };
  const same = diffReload(old, { instances: [instance("A")], syncGroups: [{ ...group }] });
  assertEquals(same.rebuildGroups, false);
  const next = { instances: [instance("A")], syncGroups: [{ ...group, smtpAlert: true }] };
  const d = diffReload(old, next);
  assertEquals([d.rebuildGroups, d.unchanged], [true, ["A"]]);
});
