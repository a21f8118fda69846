/**
 * Tries operations named on the command line and prints one JSON object: operation → "ok" or the
 * error's class name (NotCapable for a permission the set does not grant, NotFound for a granted
 * read of a missing file). Run under a role's permission set by `tests/permissions_test.ts`.
 *
 *   read:<path> write:<path> env:<name> listen:<host> connect:<host:port> run:<cmd> sys:<kind>
 */

const results: Record<string, string> = {};
for (const op of Deno.args) {
  const colon = op.indexOf(":");
  const kind = op.slice(0, colon);
  const arg = op.slice(colon + 1);
  try {
    switch (kind) {
      case "read":
        Deno.readFileSync(arg);
        break;
      case "write":
        Deno.writeTextFileSync(arg, "probe");
        Deno.removeSync(arg);
        break;
      case "env":
        Deno.env.get(arg);
        break;
      case "listen":
        Deno.listen({ hostname: arg, port: 0 }).close();
        break;
      case "connect": {
        const at = arg.lastIndexOf(":");
        (await Deno.connect({ hostname: arg.slice(0, at), port: Number(arg.slice(at + 1)) })).close();
        break;
      }
      case "run":
        await new Deno.Command(arg).output();
        break;
      case "sys":
        Deno.hostname();
        break;
      default:
        throw new TypeError(`unknown probe "${kind}"`);
    }
    results[op] = "ok";
  } catch (error) {
    results[op] = (error as Error).name;
  }
}
console.log(JSON.stringify(results));
