// Moved to test/support/ (shared with bench/ and soak/); re-exported here for tests written against the old path.
export { UserAgent } from '../support/user-agent.js';
export { formAction, hiddenField } from '../support/html-form.js';
