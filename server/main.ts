import { DatabaseUnavailable } from "../db/client.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { startInstance } from "./instance.ts";

try {
  const instance = await startInstance(loadConfig());
  const stop = async () => {
    await instance.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`harmony: ${error.message}`);
    Deno.exit(2);
  }
  if (error instanceof DatabaseUnavailable) {
    console.error(`harmony: ${error.message}`);
    Deno.exit(1);
  }
  throw error;
}
