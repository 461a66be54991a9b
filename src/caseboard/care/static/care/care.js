// Care-management behaviours the CSP allows (script-src 'self'): no inline code anywhere.
// One section per area.

// == registry, enrollment, interactions, care team, caseload ==
(() => {
  // Forms that remove something ask first (e.g. ending a care-team membership).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // Care team: the name and description are for people outside caseboard only.
  const syncOutside = (form) => {
    const member = form.querySelector("select[name=member]");
    const outside = form.querySelector("[data-outside-fields]");
    if (member && outside) outside.hidden = member.value !== "";
  };

  // Interactions: a care-team meeting or chart work has no direction and reaches nobody.
  const WITHOUT_PATIENT = new Set(["care_team_meeting", "non_face_to_face"]);
  const syncKind = (form) => {
    const kind = form.querySelector("select[name=kind]");
    if (!kind || !WITHOUT_PATIENT.has(kind.value)) return;
    const direction = form.querySelector("select[name=direction]");
    const reached = form.querySelector("select[name=reached]");
    if (direction) direction.value = "none";
    if (reached) reached.value = "";
  };

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLSelectElement) || !el.form) return;
    if (el.name === "member" && el.form.hasAttribute("data-care-team-form")) syncOutside(el.form);
    if (el.name === "kind" && el.form.hasAttribute("data-interaction-form")) syncKind(el.form);
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-care-team-form]").forEach(syncOutside);
  });
})();

// == care plan ==
// The printable Health Action Plan's Print button.
document.addEventListener("click", (event) => {
  const el = event.target instanceof Element ? event.target : null;
  if (el && el.closest("[data-print-page]")) {
    event.preventDefault();
    window.print();
    return;
  }
  // A suggested shared goal fills the goal box, where the care manager puts it in the
  // patient's words; without script the link reloads the form with it filled in.
  const suggestion = el ? el.closest("[data-goal-suggestion]") : null;
  if (suggestion) {
    const target = document.getElementById(suggestion.getAttribute("data-goal-target") || "");
    if (target instanceof HTMLTextAreaElement) {
      event.preventDefault();
      target.value = suggestion.getAttribute("data-goal-suggestion") || "";
      target.focus();
    }
  }
});

// An intervention's "Name, if someone else" box matters only when "Someone else" is chosen.
(() => {
  const syncResponsible = (form) => {
    const choice = form.querySelector("select[name=responsible]");
    const other = form.querySelector("[data-responsible-other]");
    if (!choice || !other) return;
    const named = other.querySelector("input");
    other.hidden = choice.value !== "other" && !(named && named.value);
  };
  document.addEventListener("change", (event) => {
    const el = event.target;
    if (el instanceof HTMLSelectElement && el.name === "responsible" && el.form &&
        el.form.hasAttribute("data-intervention-form")) {
      syncResponsible(el.form);
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-intervention-form]").forEach(syncResponsible);
  });
})();

// == tasks, notifications, surveys ==

// == screening, resources, referrals ==
(() => {
  // Screening forms: a running total of the scored items, and "None of the above" on a
  // choose-all-that-apply item clears the problems chosen (and the reverse).
  const syncTotal = (form) => {
    const total = form.querySelector("[data-screening-total]");
    if (!total) return;
    let sum = 0;
    form.querySelectorAll("fieldset[data-scored] input[type=radio]:checked").forEach((input) => {
      sum += Number.parseInt(input.value, 10) || 0;
    });
    total.querySelector("output").textContent = String(sum);
    total.hidden = false;
  };

  const syncNoneOfTheAbove = (input) => {
    const group = input.closest("fieldset[data-multiple]");
    if (!group || !input.checked) return;
    group.querySelectorAll("input[type=checkbox]").forEach((other) => {
      if (other === input) return;
      if (input.value === "none" || other.value === "none") other.checked = false;
    });
  };

  // Referral form: offer only the services the chosen program lists.
  const syncCategories = (select) => {
    const form = select.form;
    const category = form && form.querySelector("select[name=category]");
    if (!category) return;
    const option = select.selectedOptions[0];
    const offered = option && option.dataset.categories ? option.dataset.categories.split(" ") : null;
    let firstOffered = null;
    Array.from(category.options).forEach((choice) => {
      const allowed = !offered || offered.includes(choice.value);
      choice.hidden = !allowed;
      choice.disabled = !allowed;
      if (allowed && firstOffered === null) firstOffered = choice;
    });
    if (category.selectedOptions[0] && category.selectedOptions[0].disabled && firstOffered) {
      category.value = firstOffered.value;
    }
  };

  // Referral update: the outcome is asked for only when the new status closes the referral.
  const syncOutcome = (form) => {
    const status = form.querySelector("select[name=status]");
    const outcome = form.querySelector("[data-outcome]");
    if (!status || !outcome) return;
    const closing = (form.dataset.closing || "").split(" ");
    outcome.hidden = !closing.includes(status.value);
  };

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLElement)) return;
    const form = el.closest("form");
    if (!form) return;
    if (form.hasAttribute("data-screening-form")) {
      if (el instanceof HTMLInputElement && el.type === "checkbox") syncNoneOfTheAbove(el);
      syncTotal(form);
    }
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-resource-select")) syncCategories(el);
    if (form.hasAttribute("data-referral-update")) syncOutcome(form);
  });

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-screening-form]").forEach(syncTotal);
    document.querySelectorAll("select[data-resource-select]").forEach(syncCategories);
    document.querySelectorAll("form[data-referral-update]").forEach(syncOutcome);
  });
})();
