/** The 404 page: an unknown path, or a run id the server does not know. */
import { Link } from "../components/link.tsx";

export function NotFoundPage(props: { what: string }) {
  return (
    <section class="not-found" data-testid="not-found">
      <h1>Not found</h1>
      <p>{props.what}</p>
      <p>
        <Link href="/">Back to the runs</Link>
      </p>
    </section>
  );
}
