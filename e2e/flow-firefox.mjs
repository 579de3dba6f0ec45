// The login flow in headless Firefox ESR over WebDriver (geckodriver): see e2e/flow-webdriver.mjs.
import { runFlow } from './flow-webdriver.mjs';

await runFlow('firefox');
