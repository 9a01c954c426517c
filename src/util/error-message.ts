// What a failure says, whatever was thrown: an Error's message, or the thrown
// value as a string. For messages shown to a person (start-up errors, probe
// details); logs take the error itself (`{ error }`), which the Logger
// describes.

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
