import { OUTPUT_KEYS } from '../../contract/outputs.js';
import { OUTPUT_KEYS as SETUP_KEYS } from '../e2e/global-setup.js';

test('the e2e global setup reads the stack outputs under the keys the stack writes', () => {
  expect(SETUP_KEYS).toEqual(OUTPUT_KEYS);
});
