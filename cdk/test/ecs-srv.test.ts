import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { describe, it } from 'node:test';
import * as cdk from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EcsSrv, EcsSrvProps, PARAMETER_VALUES, RoutingPolicy, templateFacts } from '../lib';

const ZONE = 'Z0123456789ABCDEFGHIJ';

/** A stack with one EcsSrv; `extra` adds the app's own resources the props refer to. */
function synth(props: (stack: cdk.Stack) => Partial<EcsSrvProps> = () => ({})) {
  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'Discovery', { env: { account: '123456789012', region: 'eu-west-1' } });
  const code = lambda.Code.fromBucket(s3.Bucket.fromBucketName(stack, 'Artifacts', 'artifacts-bucket'), 'ecs-srv/bootstrap.zip');
  const construct = new EcsSrv(stack, 'EcsSrv', { code, hostedZone: ZONE, ...props(stack) });
  return { stack, construct, template: Template.fromStack(stack) };
}

/** The writer's environment. */
function environment(template: Template): Record<string, unknown> {
  const functions = template.findResources('AWS::Serverless::Function');
  assert.deepEqual(Object.keys(functions).sort(), ['PackerFunction', 'PublisherFunction']);
  return functions.PublisherFunction.Properties.Environment.Variables;
}

describe('EcsSrv', () => {
  it('gives every parameter of template.yaml a prop', () => {
    const inTemplate = Object.keys(templateFacts().parameters).sort();
    const covered = Object.keys(PARAMETER_VALUES).sort();
    const missing = inTemplate.filter((name) => !covered.includes(name));
    const stale = covered.filter((name) => !inTemplate.includes(name));
    assert.deepEqual(missing, [], `template.yaml parameters without an EcsSrvProps prop: ${missing.join(', ')}`);
    assert.deepEqual(stale, [], `props for parameters template.yaml no longer has: ${stale.join(', ')}`);
  });

  it('holds every resource of template.yaml under its own logical id, with the SAM transform', () => {
    const { template } = synth();
    const json = template.toJSON();
    assert.equal(json.Transform, 'AWS::Serverless-2016-10-31');
    assert.match(json.Description, /^ecs-srv \d+\.\d+\.\d+: /);
    assert.deepEqual(
      Object.keys(json.Parameters).sort(),
      [...Object.keys(templateFacts().parameters), 'BootstrapVersion'].sort(),
      "the template's parameters, each with its value as the default",
    );
    for (const name of [
      'PublisherFunction', 'PublisherRole', 'PublisherLogGroup', 'DeadLetterQueue', 'TaskEventQueue',
      'TaskEventDeadLetterQueue', 'TaskEventQueueSource', 'TaskStateChangeRule', 'ReconcileRule',
      'InboxQueue', 'InboxQueueSource', 'PackerFunction', 'PackerRole', 'PackerLogGroup',
      'Dashboard', 'ReconcileDriftAlarm', 'EventLagAlarm', 'RefusalsAlarm', 'InboxAgeAlarm', 'ZonePurge',
    ]) {
      assert.ok(json.Resources[name], `${name} is in the stack`);
    }
    template.hasResourceProperties('AWS::Serverless::Function', {
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      CodeUri: { Bucket: 'artifacts-bucket', Key: 'ecs-srv/bootstrap.zip' },
      EventInvokeConfig: { DestinationConfig: { OnFailure: { Type: 'SQS' } } },
    });
    // The packer is the same binary, given only where to pack into.
    const packer = json.Resources.PackerFunction;
    assert.deepEqual(packer.Properties.CodeUri, { Bucket: 'artifacts-bucket', Key: 'ecs-srv/bootstrap.zip' });
    assert.deepEqual(Object.keys(packer.Properties.Environment.Variables).sort(), ['PACK_INTO_QUEUE_URL', 'RUST_LOG']);
    template.hasResource('Custom::EcsSrvZonePurge', {
      Condition: 'PurgeZoneOnDelete',
      Properties: { HostedZoneId: { Ref: 'HostedZoneId' }, RecordOwner: { Ref: 'RecordOwner' } },
    });
  });

  it('passes the template defaults for the props left out', () => {
    const { construct, template } = synth();
    const defaults = templateFacts().parameters;
    const parameters = template.toJSON().Parameters;
    for (const [name, value] of Object.entries(construct.parameterValues)) {
      assert.equal(parameters[name].Default, value, `${name} is passed`);
      if (name === 'HostedZoneId') continue;
      assert.equal(String(value), String(defaults[name].default), name);
    }
    const variables = environment(template);
    assert.deepEqual(variables.HOSTED_ZONE_ID, { Ref: 'HostedZoneId' });
    assert.deepEqual(variables.REGIONAL_NAMES, { Ref: 'RegionalNames' });
  });

  it('passes every prop as its parameter', () => {
    const { construct, template } = synth(() => ({
      clusters: ['arn:aws:ecs:eu-west-1:123456789012:cluster/prod', 'arn:aws:ecs:eu-west-1:123456789012:cluster/batch'],
      recordDomain: 'svc.example.internal',
      recordTtl: cdk.Duration.seconds(30),
      routingPolicy: RoutingPolicy.MULTIVALUE,
      defaultWeight: 3,
      srvSets: false,
      recordOwner: 'blue',
      clusterInNames: true,
      regionalNames: true,
      hostedZoneRole: 'arn:aws:iam::210987654321:role/ecs-srv-zone',
      hostedZoneExternalId: 'shared-zone',
      healthGate: false,
      useSqsQueue: false,
      batchingWindow: cdk.Duration.seconds(10),
      sqsBatchSize: 5,
      healthRecheck: cdk.Duration.seconds(20),
      reconcileSchedule: events.Schedule.rate(cdk.Duration.minutes(10)),
      route53WriteRate: 0.5,
      alarmTopic: 'arn:aws:sns:eu-west-1:123456789012:pager',
      lagAlarmThreshold: cdk.Duration.minutes(2),
      architecture: lambda.Architecture.X86_64,
      purgeOnDelete: false,
    }));
    assert.deepEqual(construct.parameterValues, {
      HostedZoneId: ZONE,
      ClusterArns: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod,arn:aws:ecs:eu-west-1:123456789012:cluster/batch',
      RecordDomain: 'svc.example.internal',
      RecordTtl: 30,
      RoutingPolicy: 'multivalue',
      DefaultWeight: 3,
      SrvSets: 'off',
      RecordOwner: 'blue',
      ClusterInNames: 'on',
      RegionalNames: 'on',
      HostedZoneRoleArn: 'arn:aws:iam::210987654321:role/ecs-srv-zone',
      HostedZoneExternalId: 'shared-zone',
      HealthGate: 'off',
      UseSqsQueue: 'false',
      BatchingWindowSeconds: 10,
      SqsBatchSize: 5,
      HealthRecheckSeconds: 20,
      ReconcileSchedule: 'rate(10 minutes)',
      Route53WriteRate: 0.5,
      AlarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:pager',
      LagAlarmSeconds: 120,
      Architecture: 'x86_64',
      PurgeOnDelete: 'false',
    });
    const parameters = template.toJSON().Parameters;
    for (const [name, value] of Object.entries(construct.parameterValues)) {
      assert.equal(parameters[name].Default, value, `${name} is passed`);
    }
    // Literal values keep the template's conditions on its parameters.
    assert.deepEqual(template.toJSON().Conditions.UseSqs, { 'Fn::Equals': [{ Ref: 'UseSqsQueue' }, 'true'] });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: { Ref: 'LagAlarmSeconds' }, Metrics: Match.anyValue() });
  });

  it('takes a zone, clusters, a topic and a role of the same app, and decides their conditions', () => {
    const { template } = synth((stack) => {
      const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [] });
      return {
        hostedZone: new route53.PrivateHostedZone(stack, 'Zone', { zoneName: 'example.internal', vpc }),
        clusters: [new ecs.Cluster(stack, 'Cluster', { vpc })],
        alarmTopic: new sns.Topic(stack, 'Pager'),
        hostedZoneRole: iam.Role.fromRoleArn(stack, 'ZoneRole', 'arn:aws:iam::210987654321:role/ecs-srv-zone'),
      };
    });
    const json = template.toJSON();
    // CloudFormation allows only parameters in conditions: these are decided at synthesis.
    assert.deepEqual(json.Conditions.HasClusterFilter, { 'Fn::Equals': ['true', 'true'] });
    assert.deepEqual(json.Conditions.HasAlarmTopic, { 'Fn::Equals': ['true', 'true'] });
    const variables = environment(template);
    assert.match(JSON.stringify(variables.HOSTED_ZONE_ID), /"Ref":"Zone/);
    assert.match(JSON.stringify(variables.CLUSTERS), /Cluster.*Arn/);
    assert.match(JSON.stringify(json.Resources.RefusalsAlarm.Properties.AlarmActions), /"Ref":"Pager/);
    assert.match(JSON.stringify(json.Resources.PublisherRole.Properties.Policies), /hostedzone\/\$\{Zone|"Ref":"Zone/);
  });

  it('uploads the zip that make package builds as an asset', () => {
    const zip = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ecs-srv-cdk-')), 'bootstrap.zip');
    fs.writeFileSync(zip, 'not really a zip');
    const { template } = synth(() => ({ code: lambda.Code.fromAsset(zip) }));
    const resources = template.toJSON().Resources;
    const codeUri = JSON.stringify(resources.PublisherFunction.Properties.CodeUri);
    assert.match(codeUri, /cdk-[a-z0-9]+-assets-/);
    assert.match(codeUri, /\.zip/);
    assert.equal(JSON.stringify(resources.PackerFunction.Properties.CodeUri), codeUri, 'one binary, one asset');
  });

  it('refuses code that is not a zip, and a second EcsSrv in a stack', () => {
    assert.throws(() => synth(() => ({ code: lambda.Code.fromInline('exit 1') })), /zip in S3 or an asset/);
    const app = new cdk.App();
    const stack = new cdk.Stack(app, 'Twice');
    const code = lambda.Code.fromBucket(s3.Bucket.fromBucketName(stack, 'Artifacts', 'artifacts-bucket'), 'k.zip');
    new EcsSrv(stack, 'One', { code, hostedZone: ZONE });
    assert.throws(() => new EcsSrv(stack, 'Two', { code, hostedZone: ZONE }), /one EcsSrv per stack/);
  });

  it('synthesizes templates that cfn-lint accepts', () => {
    const cfnLint = process.env.CFN_LINT ?? path.join(__dirname, '..', '..', '..', '.venv', 'bin', 'cfn-lint');
    assert.ok(fs.existsSync(cfnLint), `cfn-lint not found at ${cfnLint}: run \`make deps\` (CFN_LINT overrides)`);
    const out = path.join(__dirname, '..', '..', 'cdk.out', 'lint');
    fs.mkdirSync(out, { recursive: true });
    const variants: Record<string, (stack: cdk.Stack) => Partial<EcsSrvProps>> = {
      defaults: () => ({}),
      direct: () => ({ useSqsQueue: false, reconcileSchedule: false, purgeOnDelete: false }),
      'zone-role': () => ({
        hostedZoneRole: 'arn:aws:iam::210987654321:role/ecs-srv-zone',
        recordDomain: 'svc.example.internal',
        clusters: ['arn:aws:ecs:eu-west-1:123456789012:cluster/prod'],
        alarmTopic: 'arn:aws:sns:eu-west-1:123456789012:pager',
      }),
      'same-app': (stack) => {
        const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [] });
        return {
          hostedZone: new route53.PrivateHostedZone(stack, 'Zone', { zoneName: 'example.internal', vpc }),
          clusters: [new ecs.Cluster(stack, 'Cluster', { vpc })],
          alarmTopic: new sns.Topic(stack, 'Pager'),
        };
      },
    };
    const files = Object.entries(variants).map(([name, props]) => {
      const file = path.join(out, `${name}.template.json`);
      fs.writeFileSync(file, JSON.stringify(synth(props).template.toJSON(), null, 1));
      return file;
    });
    // W8003 (an Fn::Equals that is always true or false): the construct decides the
    // conditions on values known only at deployment, which CloudFormation cannot evaluate.
    const lint = spawnSync(cfnLint, ['--ignore-checks', 'W8003', '--', ...files], { encoding: 'utf8' });
    assert.equal(lint.error, undefined, `running cfn-lint: ${lint.error}`);
    assert.equal(lint.status, 0, `cfn-lint on the synthesized templates:\n${lint.stdout}${lint.stderr}`);
  });
});
