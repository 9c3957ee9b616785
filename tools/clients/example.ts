// A short integration written against the types openapi-typescript generates from the
// committed document; `tsc --noEmit` fails when the document and this use of it disagree.
import type { components, paths } from "./schema";

type SubmitRequest = components["schemas"]["SubmitRequest"];
type RequestDto = components["schemas"]["RequestDto"];
type Submitted =
  paths["/v1/screening-requests"]["post"]["responses"]["201"]["content"]["application/json"];
type Problem = components["schemas"]["Problem"];

const submission: SubmitRequest = {
  profile: "child-contact-abroad",
  reference: "VOL-2026-0042",
  position: { title: "Teaching assistant", role: "volunteer" },
  deployment: { country: "UG", start_date: "2027-03-01" },
  subject: {
    given_names: "Anna Maria",
    family_name: "Jansen",
    date_of_birth: "1998-06-14",
    place_of_birth: "Utrecht",
    country_of_birth: "NL",
    nationalities: ["NL"],
    email: "anna.jansen@example.org",
  },
};

export async function submit(base: string, key: string): Promise<RequestDto> {
  const response = await fetch(`${base}/v1/screening-requests`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${key}`,
      "Content-Type": "application/json",
      "Idempotency-Key": crypto.randomUUID(),
    },
    body: JSON.stringify(submission),
  });
  if (!response.ok) {
    const problem = (await response.json()) as Problem;
    throw new Error(`${problem.status} ${problem.title}: ${problem.detail}`);
  }
  const request = (await response.json()) as Submitted;
  const decided: boolean = request.status === "cleared" || request.status === "refused";
  console.log(request.id, request.invitation.expires_at, decided);
  return request;
}
