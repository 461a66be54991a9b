// Conference mode: the call's and the patient's clocks, the questions shown in the call's order
// (a discussion that stops at step 6 hides the rest), and more next-step rows on demand.
(function () {
  "use strict";

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function startTimer(el, since, until, plannedMinutes) {
    const out = el.querySelector("output");
    function tick() {
      const end = until || new Date();
      const seconds = (end - since) / 1000;
      out.textContent = clock(seconds);
      if (plannedMinutes) el.classList.toggle("over", seconds > plannedMinutes * 60);
    }
    tick();
    if (!until) window.setInterval(tick, 1000);
  }

  function radioValue(form, name) {
    const checked = form.querySelector('input[name="' + name + '"]:checked');
    return checked ? checked.value : "";
  }

  function fieldValue(form, name) {
    const el = form.elements[name];
    if (!el) return "";
    if (el instanceof RadioNodeList) return radioValue(form, name);
    if (el.type === "checkbox") return el.checked ? "on" : "";
    return el.value;
  }

  function update(form) {
    // Steps 6a → 6c → 6b: a "no" (or an unengaged patient) ends the discussion there.
    const practice = radioValue(form, "still_practice_patient");
    const covered = radioValue(form, "still_covered") || "yes";
    const engagement = radioValue(form, "engagement") || "engaged";
    const stopAfter = practice === "no" ? "practice" : covered === "no" ? "coverage"
      : engagement !== "engaged" ? "engagement" : "";
    let hidden = false;
    form.querySelectorAll("fieldset[data-step]").forEach(function (set) {
      set.hidden = hidden;
      if (set.dataset.step === stopAfter) hidden = true;
    });
    form.querySelectorAll("[data-when]").forEach(function (el) {
      const [name, value] = el.dataset.when.split("=");
      el.hidden = fieldValue(form, name) !== value;
    });
    form.querySelectorAll("[data-when-not]").forEach(function (el) {
      el.hidden = fieldValue(form, el.dataset.whenNot) !== "";
    });
    const warning = document.getElementById("gap-warning");
    const seen = form.elements["last_seen_by_practice"];
    if (warning && seen) {
      const months = Number(warning.dataset.gapMonths);
      const day = new Date(warning.dataset.day + "T00:00:00");
      const limit = new Date(day);
      limit.setMonth(limit.getMonth() - months);
      warning.hidden = !seen.value || new Date(seen.value + "T00:00:00") > limit;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const call = document.getElementById("call-timer");
    if (call) {
      startTimer(call, new Date(call.dataset.since),
        call.dataset.until ? new Date(call.dataset.until) : null, Number(call.dataset.planned));
    }
    const form = document.getElementById("discussion-form");
    if (!form) return;
    const opened = new Date();
    const patient = document.getElementById("patient-timer");
    if (patient) startTimer(patient, opened, null, 0);
    const started = form.elements["started_at"];
    if (started && !started.value) started.value = opened.toISOString();
    form.addEventListener("change", function () { update(form); });
    update(form);
    const add = document.getElementById("add-step");
    const body = document.querySelector("#next-steps tbody");
    if (add && body) {
      add.addEventListener("click", function () {
        const rows = body.querySelectorAll("tr");
        if (rows.length >= 8) return;
        const copy = rows[rows.length - 1].cloneNode(true);
        const n = rows.length + 1;
        copy.querySelectorAll("input, select").forEach(function (el) {
          el.value = "";
          if (el.id) el.id = el.id.replace(/\d+$/, String(n));
          if (el.getAttribute("aria-label")) {
            el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/\d+$/, String(n)));
          }
        });
        copy.querySelectorAll("label").forEach(function (el) {
          el.htmlFor = el.htmlFor.replace(/\d+$/, String(n));
          el.textContent = "Next step " + n;
        });
        body.appendChild(copy);
        copy.querySelector("input").focus();
      });
    }
  });
})();
