/**
 * The browser script: identity, signing and htmx glue. The server renders
 * every page; this only adds what needs the member's key or live updates.
 */
import { initChatPage } from "./chat.ts";
import { initIdentityPage } from "./identity.ts";
import { initProfilePage } from "./profile.ts";
import { initAddDevice, initLinkThisDevice } from "./pairing.ts";
import { initRecoverIdentity, initRecoverySection } from "./recovery.ts";
import { initRoleForms } from "./roles.ts";
import { initJoinByCredential } from "./credentials.ts";
import { initModeration } from "./moderation.ts";
import { initDmListPage, initDmPage } from "./dm.ts";
import { initMentionLinks } from "./attention.ts";

function setupToggles(): void {
  document.addEventListener("click", (event) => {
    const button = (event.target as HTMLElement).closest<HTMLElement>("[data-toggle]");
    if (!button) return;
    const panel = document.getElementById(button.dataset.toggle!);
    if (!panel) return;
    const open = panel.classList.toggle("open");
    button.setAttribute("aria-expanded", String(open));
    if (open) panel.querySelector<HTMLElement>("a, button, input")?.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const panel of document.querySelectorAll(".open")) panel.classList.remove("open");
  });
}

const pages: Record<string, () => void | Promise<void>> = {
  chat: () => {
    initJoinByCredential();
    return initChatPage();
  },
  identity: async () => {
    initLinkThisDevice();
    await Promise.all([initRecoverIdentity(), initIdentityPage()]);
  },
  dms: () => initDmListPage(),
  dm: () => initDmPage(),
  notifications: () => initMentionLinks(),
  profile: () => {
    initProfilePage();
    initRecoverySection();
    initAddDevice();
  },
};

setupToggles();
initRoleForms();
initModeration();
const page = document.body.dataset.page ?? "";
void pages[page]?.();
