// The detector registry: every detector the engine runs, listed so the build is static.
// A detector's file name is its id; add a new one here and to its test.
import type { AnyDetector } from './lib/detector';
import { detector as coapAmplification } from './coap.amplification';
import { detector as coapRequestFlood } from './coap.request_flood';
import { detector as coapSpoofedResponse } from './coap.spoofed_response';
import { detector as coapUnexpectedMethod } from './coap.unexpected_method';
import { detector as coapUnprotected } from './coap.unprotected';
import { detector as dtlsPskIdentityReuse } from './dtls.psk_identity_reuse';
import { detector as mqttAnonymousAccess } from './mqtt.anonymous_access';
import { detector as mqttAuthBruteforce } from './mqtt.auth_bruteforce';
import { detector as mqttClientIdTakeover } from './mqtt.client_id_takeover';
import { detector as mqttConnectFlood } from './mqtt.connect_flood';
import { detector as mqttCredentialSharing } from './mqtt.credential_sharing';
import { detector as mqttDeviceSilent } from './mqtt.device_silent';
import { detector as mqttPlaintextCredentials } from './mqtt.plaintext_credentials';
import { detector as mqttProtocolViolation } from './mqtt.protocol_violation';
import { detector as mqttRateAnomaly } from './mqtt.rate_anomaly';
import { detector as mqttRetainedFlood } from './mqtt.retained_flood';
import { detector as mqttSubscriptionSpike } from './mqtt.subscription_spike';
import { detector as mqttSysTopicExposure } from './mqtt.sys_topic_exposure';
import { detector as mqttTopicAclDrift } from './mqtt.topic_acl_drift';
import { detector as mqttWildcardSubscription } from './mqtt.wildcard_subscription';
import { detector as tlsCertExpired } from './tls.cert_expired';
import { detector as tlsCertExpiring } from './tls.cert_expiring';
import { detector as tlsNoClientAuth } from './tls.no_client_auth';
import { detector as tlsSelfSigned } from './tls.self_signed';
import { detector as tlsWeakVersion } from './tls.weak_version';

export const DETECTORS: readonly AnyDetector[] = [
  coapAmplification,
  coapRequestFlood,
  coapSpoofedResponse,
  coapUnexpectedMethod,
  coapUnprotected,
  dtlsPskIdentityReuse,
  mqttAnonymousAccess,
  mqttAuthBruteforce,
  mqttClientIdTakeover,
  mqttConnectFlood,
  mqttCredentialSharing,
  mqttDeviceSilent,
  mqttPlaintextCredentials,
  mqttProtocolViolation,
  mqttRateAnomaly,
  mqttRetainedFlood,
  mqttSubscriptionSpike,
  mqttSysTopicExposure,
  mqttTopicAclDrift,
  mqttWildcardSubscription,
  tlsCertExpired,
  tlsCertExpiring,
  tlsNoClientAuth,
  tlsSelfSigned,
  tlsWeakVersion,
];
