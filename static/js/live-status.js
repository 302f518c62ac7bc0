// Live status without a reload: Sync now's progress and result, and Amazon's answer to a
// cancellation in flight. The server renders the HTML (dashboard/views.py); this file only asks
// for it and swaps it in. A file of its own: the Content-Security-Policy runs no inline script.
"use strict";

const SYNC_POLL_MILLISECONDS = 1000;
const CANCELLATION_POLL_MILLISECONDS = 2000;
// A tab left open stops asking after this long; a reload starts again.
const POLL_LIMIT_MILLISECONDS = 30 * 60 * 1000;

async function fetchJson(url, options = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    ...options,
    headers: { Accept: "application/json", ...(options.headers || {}) },
  });
  if (!response.ok) {
    throw new Error(`${response.status} ${url}`);
  }
  return response.json();
}

function syncShow(storeId, answer) {
  for (const target of document.querySelectorAll(`[data-sync-result="${storeId}"]`)) {
    target.innerHTML = answer.html;
  }
  for (const badge of document.querySelectorAll(`[data-store-status="${storeId}"]`)) {
    badge.outerHTML = answer.status_html;
  }
  if (answer.is_flagged) {
    const card = document.querySelector(`article.card[data-store="${storeId}"]`);
    if (card) {
      card.classList.add("card-flagged");
    }
  }
}

function syncFollow(storeId, statusUrl, startedAt = Date.now()) {
  setTimeout(async () => {
    let answer;
    try {
      answer = await fetchJson(statusUrl);
    } catch (error) {
      answer = null; // A network hiccup: ask again at the next tick.
    }
    if (answer) {
      syncShow(storeId, answer);
      if (answer.is_finished) {
        return;
      }
    }
    if (Date.now() - startedAt < POLL_LIMIT_MILLISECONDS) {
      syncFollow(storeId, statusUrl, startedAt);
    }
  }, SYNC_POLL_MILLISECONDS);
}

for (const form of document.querySelectorAll("form[data-sync-now]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const storeId = form.dataset.syncNow;
    const menu = form.closest("details");
    if (menu) {
      menu.open = false;
    }
    let answer;
    try {
      answer = await fetchJson(form.action, { method: "POST", body: new FormData(form) });
    } catch (error) {
      form.submit(); // Let the page do it the plain way, with its message.
      return;
    }
    syncShow(storeId, answer);
    if (!answer.is_finished && answer.status_url) {
      syncFollow(storeId, answer.status_url);
    }
  });
}

// A sync already running when the page was loaded is followed too.
for (const target of document.querySelectorAll("[data-sync-result][data-sync-running]")) {
  syncFollow(target.dataset.syncResult, target.dataset.syncStatusUrl);
}

function cancellationFollow(notice, startedAt = Date.now()) {
  const statusUrl = notice.dataset.cancellationStatusUrl;
  setTimeout(async () => {
    let answer = null;
    try {
      answer = await fetchJson(statusUrl);
    } catch (error) {
      answer = null;
    }
    if (answer && answer.state && answer.state !== "pending") {
      const holder = document.createElement("div");
      holder.innerHTML = answer.html;
      notice.replaceWith(...holder.childNodes);
      for (const status of document.querySelectorAll("[data-field=status]")) {
        status.textContent = answer.order_status;
      }
      return;
    }
    if (Date.now() - startedAt < POLL_LIMIT_MILLISECONDS) {
      cancellationFollow(notice, startedAt);
    }
  }, CANCELLATION_POLL_MILLISECONDS);
}

for (const notice of document.querySelectorAll("[data-cancellation-status-url]")) {
  cancellationFollow(notice);
}
