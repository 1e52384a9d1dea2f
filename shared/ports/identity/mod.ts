/** The identity port: verifying bearer tokens of an OIDC issuer (or of AEX's own) into a Principal. */
export {
  KeySourceUnavailableError,
  TOKEN_REJECTION_REASONS,
  TokenRejectedError,
  type TokenRejectionReason,
} from './errors.ts';
export { externalIssuerOptions } from './from-env.ts';
export { roleFromClaims } from './roles-claim.ts';
export {
  ASYMMETRIC_ALGORITHMS,
  type AsymmetricAlgorithm,
  createTokenVerifier,
  MAX_TOKEN_LENGTH,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './token-verifier.ts';
