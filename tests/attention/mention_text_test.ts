import assert from "node:assert/strict";
import { mentionTokens, resolveMentions, tokensToNames } from "../../server/attention/mentionText.ts";
import { renderMentions } from "../../markup/mentions.ts";
import { renderMarkdown } from "../../markup/markdown.ts";

const ada = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
const adam = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH";
const directory = {
  members: [{ did: ada, name: "Ada" }, { did: adam, name: "Ada Martin" }],
  roles: [{ slug: "helpers", name: "Helpers", iri: "https://chat.example/roles/helpers" }],
};

Deno.test("resolving @name: longest name first, at word starts only, roles by slug or name", () => {
  const out = resolveMentions("hi @Ada Martin and @ada, ping @Helpers; mail me@ada.org or @adams", directory);
  assert.equal(out.content, `hi <@${adam}> and <@${ada}>, ping <@&helpers>; mail me@ada.org or @adams`);
  assert.deepEqual(out.mentions, [adam, ada, "https://chat.example/roles/helpers"]);
  assert.deepEqual(mentionTokens(out.content), { members: [adam, ada], roles: ["helpers"] });
});

Deno.test("tokens go back to names for editing, and render as @CurrentName spans that escape names", () => {
  const content = `hey <@${ada}> and <@&helpers>`;
  assert.equal(tokensToNames(content, directory), "hey @Ada and @Helpers");
  const html = renderMentions(renderMarkdown(content), {
    member: () => "<b>Ada</b>",
    role: (slug) => (slug === "helpers" ? "Helpers" : null),
  });
  assert.equal(
    html,
    `hey <span class="mention" data-mention="${ada}">@&lt;b&gt;Ada&lt;/b&gt;</span> and ` +
      `<span class="mention role-mention" data-mention-role="helpers">@Helpers</span>`,
  );
  // An unknown role stays visible as text.
  assert.match(
    renderMentions(renderMarkdown("<@&gone>"), { member: () => "", role: () => null }),
    /&lt;@&amp;gone&gt;/,
  );
});
