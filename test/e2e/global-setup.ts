export default async function globalSetup(): Promise<void> {
  throw new Error("local cloud setup not written yet");
}
