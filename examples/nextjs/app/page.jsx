// The form that starts an order's workflow through a server action.
import { placeOrderAction } from "./actions";

export default function Home() {
  return (
    <main>
      <h1>Place an order</h1>
      <form action={placeOrderAction}>
        <label>
          Order id <input name="orderId" defaultValue="" placeholder="order-1" />
        </label>{" "}
        <label>
          Item <input name="item" defaultValue="widget" />
        </label>{" "}
        <label>
          Quantity <input name="quantity" type="number" defaultValue="2" min="1" />
        </label>{" "}
        <button type="submit">Place order</button>
      </form>
    </main>
  );
}
