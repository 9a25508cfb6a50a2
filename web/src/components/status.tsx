/** A run's or an attempt's status as a coloured badge (the colour comes from the CSS class). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status.replace(/[^a-z_]/g, "")}`}>{props.status}</span>;
}
