/**
 * The one run status of Gradflow. It lives in `src/shared/run-status.ts` so the dashboard page
 * (bundled for the browser) speaks the same vocabulary as the CLI and the extension.
 */
export * from '../shared/run-status';
