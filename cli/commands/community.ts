/** `harmony claim | join | leave | members | invite … | profile set | export | whoami`. */
import { CliError, integerOption, stringOption } from "./args.ts";
import { type Command, fromLink } from "./command.ts";
import { localTime, shortDid, table } from "./io.ts";
import { readCredentialFile } from "./credentials.ts";

export const communityCommands: Command[] = [
  {
    name: "whoami",
    synopsis: "",
    summary: "show your DID, role and display name on the server",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const me = await client.me();
      await io.out(
        `DID:    ${me.did}\n` +
          `Server: ${client.server}\n` +
          `Role:   ${me.member ? me.member.role : "not a member (join with: harmony join INVITE)"}\n` +
          `Name:   ${me.profile?.name ?? "(no profile; set one with: harmony profile set NAME)"}\n`,
      );
    },
  },
  {
    name: "claim",
    synopsis: "TOKEN|CLAIM_URL",
    summary: "become the owner of a new instance with its one-time claim link",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const { value: token, origin } = fromLink(args[0], "claim");
      const client = await connect(origin);
      const community = await client.claim(token);
      await io.out(`You now own "${community.name}" on ${client.server}.\n`);
    },
  },
  {
    name: "join",
    synopsis: "[INVITE_CODE|INVITE_URL] [--credential FILE]",
    summary: "join the community (with an invite, freely when it is open, or by presenting a credential)",
    arity: [0, 1],
    options: ["credential"],
    async run({ args, options, connect, io }) {
      const { value: code, origin } = args[0] === undefined
        ? { value: undefined }
        : fromLink(args[0], "invite");
      const credentialFile = stringOption(options, "credential");
      if (credentialFile && code) throw new CliError("join with an invite or with a credential, not both");
      const credential = credentialFile ? await readCredentialFile(credentialFile) : null;
      const client = await connect(origin);
      const member = credential ? await client.joinWithCredentials([credential]) : await client.join(code);
      const community = await client.community();
      await io.out(`You are a ${member.role} of "${community.name}" since ${localTime(member.joined)}.\n`);
    },
  },
  {
    name: "leave",
    synopsis: "",
    summary: "leave the community",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      await client.leave();
      await io.out(`You left the community on ${client.server}.\n`);
    },
  },
  {
    name: "members",
    synopsis: "",
    summary: "list the members",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const members = await client.members();
      await io.out(table(
        ["NAME", "ROLE", "JOINED", "DID"],
        members.map((m) => [m.name, m.role, localTime(m.joined), m.did]),
      ));
    },
  },
  {
    name: "invite create",
    synopsis: "[--expires SECONDS] [--uses N]",
    summary: "make an invite link (admins)",
    arity: [0, 0],
    options: ["expires", "uses"],
    async run({ options, connect, io }) {
      const expiresIn = integerOption(options, "expires", 60, 365 * 86400);
      const maxUses = integerOption(options, "uses", 1, 10000);
      const client = await connect();
      const invite = await client.createInvite({ expiresIn, maxUses });
      await io.out(
        `${invite.url}\n` +
          `code ${invite.code}, expires ${invite.expires ? localTime(invite.expires) : "never"}, ` +
          `${invite.maxUses === null ? "unlimited uses" : `${invite.maxUses} use(s)`}\n`,
      );
    },
  },
  {
    name: "invite list",
    synopsis: "",
    summary: "list invites and their state (admins)",
    arity: [0, 0],
    async run({ connect, io }) {
      const client = await connect();
      const invites = await client.invites();
      await io.out(table(
        ["CODE", "STATE", "USES", "EXPIRES", "CREATED", "BY"],
        invites.map((i) => [
          i.code,
          i.state,
          i.maxUses === null ? String(i.uses) : `${i.uses}/${i.maxUses}`,
          localTime(i.expires),
          localTime(i.created),
          shortDid(i.createdBy),
        ]),
      ));
    },
  },
  {
    name: "invite revoke",
    synopsis: "CODE|INVITE_URL",
    summary: "stop an invite from working (admins)",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const { value: code } = fromLink(args[0], "invite");
      const client = await connect();
      await client.revokeInvite(code);
      await io.out(`Revoked invite ${code}.\n`);
    },
  },
  {
    name: "profile set",
    synopsis: "NAME",
    summary: "sign and publish your display name",
    arity: [1, 1],
    async run({ args, connect, io }) {
      const name = args[0].normalize("NFC").trim();
      if (name === "") throw new CliError("the display name is empty");
      const client = await connect();
      await client.setProfile(name);
      await io.out(`Your display name is now "${name}".\n`);
    },
  },
  {
    name: "export",
    synopsis: "[--out FILE]",
    summary: "download the whole community as N-Quads (owner)",
    arity: [0, 0],
    options: ["out"],
    async run({ options, connect, io }) {
      const out = stringOption(options, "out");
      const client = await connect();
      const body = await client.exportNQuads();
      if (out === undefined) {
        await body.pipeTo(io.stdout, { preventClose: true });
        return;
      }
      let file: Deno.FsFile;
      try {
        file = await Deno.open(out, { write: true, create: true, truncate: true });
      } catch (error) {
        await body.cancel();
        throw new CliError(`cannot write ${out}: ${(error as Error).message}`);
      }
      await body.pipeTo(file.writable);
      const { size } = await Deno.stat(out);
      await io.err(`Wrote ${size} bytes of N-Quads to ${out}.\n`);
    },
  },
];
