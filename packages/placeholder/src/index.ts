export type { PlaceholderImage } from './images.js';
export { pickImage, TRANSPARENT_GIF, TRANSPARENT_PNG, TRANSPARENT_WEBP } from './images.js';
export type { PlaceholderOptions } from './strategy.js';
export { describeFailures, PlaceholderStrategy, placeholder, REASON_HEADER } from './strategy.js';
