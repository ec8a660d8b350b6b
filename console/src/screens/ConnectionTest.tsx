// Filled in when the API has a route that tests a connection.
export function ConnectionTest(_: { name: string; owner: string | null }) {
  return null;
}
