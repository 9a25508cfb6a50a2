/**
 * The Vite example's workflow: a signup that creates an account, sends a welcome mail after a
 * short durable sleep, and returns what it did.
 */
import { sleep } from "stepwise-workflows";

async function createAccount(email: string): Promise<string> {
  "use step";
  return `acct-${email.split("@")[0]}`;
}

async function sendWelcome(account: string): Promise<string> {
  "use step";
  return `welcome mail sent to ${account}`;
}

/** Creates the account, waits a moment (durably), then welcomes the user. */
export async function signup(email: string) {
  "use workflow";
  const account = await createAccount(email);
  await sleep("100ms");
  const mail = await sendWelcome(account);
  return { account, mail };
}
