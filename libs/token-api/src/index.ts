export * from './token-api';
