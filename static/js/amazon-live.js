// The order view follows its messages to Amazon: while a shipment or refund is on its way, it
// reads the page again every few seconds and, once Amazon's answer has changed a state, puts the
// new Amazon sections in place (a refusal shows at once, without a reload by hand). A file of its
// own: the Content-Security-Policy runs no inline script.
const LIVE_SECTIONS = [
  "[data-section=shipments]",
  "[data-section=credit-memos]",
  "[data-section=amazon-order]",
];
const IN_FLIGHT = "[data-amazon-state=sent], [data-amazon-state=verifying]";
const MAX_POLLS = 60;

function amazonStates(root) {
  return Array.from(root.querySelectorAll("[data-amazon-state]"), (node) => node.dataset.amazonState).join();
}

function followAmazon() {
  let polls = 0;
  const poll = async () => {
    polls += 1;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        if (amazonStates(fresh) !== amazonStates(document)) {
          for (const selector of LIVE_SECTIONS) {
            const shown = document.querySelector(selector);
            const read = fresh.querySelector(selector);
            if (shown && read) shown.replaceWith(document.importNode(read, true));
          }
        }
        if (!fresh.querySelector(IN_FLIGHT)) return;
      }
    } catch (error) {
      // Offline for a moment: ask again at the next turn.
    }
    if (polls < MAX_POLLS) window.setTimeout(poll, Math.min(1500 * polls, 15000));
  };
  window.setTimeout(poll, 1500);
}

if (document.querySelector("[data-amazon-live]") && document.querySelector(IN_FLIGHT)) {
  followAmazon();
}
