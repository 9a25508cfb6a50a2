// The run API (stepwise-workflows/http) under /stepwise: runs, streams, hooks and webhook URLs.
// Its routes need STEPWISE_HTTP_SECRET (webhook URLs excepted).
export { DELETE, GET, PATCH, POST, PUT } from "stepwise-workflows/next";
