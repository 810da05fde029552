// Canonical ("internalized") strings for identities the detectors compare on every event: client
// ids, usernames, topics, addresses. Equal internalized strings are one object, and where V8 has
// only seen internalized strings at a comparison it compiles `===` to one pointer comparison; any
// other string there makes it a call to a string-comparison builtin for every event.
//
// A property name is internalized by the engine, and Object.keys hands back that copy. The holder
// is a dictionary-mode object (Object.create(null) makes one): an object literal would add a
// hidden-class transition per distinct name, a table that grows with every client id and slows
// every insertion. Done once per connection, flow or remembered topic, never per event. The
// result is always equal to the argument, so code handed a string that was not interned only
// compares it more slowly.

/** Longest string interned: longer ones are returned as they are (the string table is not for payloads). */
const MAX = 1024;

export function intern(s: string): string {
  if (s.length === 0 || s.length > MAX) return s;
  const holder = Object.create(null) as Record<string, number>;
  holder[s] = 0;
  // An array-index name ('123') comes back as a string made from its number: equal, not interned.
  return Object.keys(holder)[0];
}
