package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// bedrockProvider names Bedrock in errors.
const bedrockProvider = "Bedrock"

// bedrockKeyEnv says what to check when Bedrock rejects the caller.
const bedrockKeyEnv = "AWS credentials (AWS_ACCESS_KEY_ID/AWS_PROFILE) and AWS_REGION"

// Bedrock is a chat model (Claude and others) on Amazon Bedrock, reached
// through the Converse API. Request.Model is the Bedrock model id, e.g.
// "anthropic.claude-3-5-sonnet-20241022-v2:0" or an inference profile id.
type Bedrock struct {
	client *bedrockruntime.Client
}

// NewBedrock builds a Bedrock client from the standard AWS credential chain
// (environment, shared config/profile, SSO, web identity, container and
// instance roles). region, when non-empty, overrides the configured region;
// endpoint, when non-empty, replaces the service endpoint (VPC endpoints,
// tests). The SDK does not retry: Temporal retries failed activities.
func NewBedrock(ctx context.Context, region, endpoint string) (*Bedrock, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		// A broken shared config or unknown profile will not fix itself.
		return nil, &PermanentError{Err: fmt.Errorf("loading AWS configuration for Bedrock (check AWS_PROFILE and ~/.aws/config): %w", err)}
	}
	if cfg.Region == "" {
		return nil, &PermanentError{Err: errors.New("no AWS region for Bedrock: set AWS_REGION (or a region in the AWS profile) in the worker's environment")}
	}
	client := bedrockruntime.NewFromConfig(cfg, func(o *bedrockruntime.Options) {
		o.Retryer = aws.NopRetryer{}
		o.RetryMaxAttempts = 1
		o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(10 * time.Minute)
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return &Bedrock{client: client}, nil
}

// Chat sends one Converse call, or N of them when req.N > 1.
func (b *Bedrock) Chat(ctx context.Context, req Request) (Response, error) {
	in := bedrockInput(req)
	return sampleN(req.N, func() (string, string, Usage, error) { return b.converse(ctx, req.Model, in) })
}

// converse makes one call and returns its text, finish reason and usage.
func (b *Bedrock) converse(ctx context.Context, model string, in *bedrockruntime.ConverseInput) (string, string, Usage, error) {
	resp, err := b.client.Converse(ctx, in)
	if err != nil {
		return "", "", Usage{}, bedrockError(model, err)
	}
	msg, ok := resp.Output.(*brtypes.ConverseOutputMemberMessage)
	if !ok {
		return "", "", Usage{}, fmt.Errorf("%s model %s returned no message (stop reason %q)", bedrockProvider, model, resp.StopReason)
	}
	var text strings.Builder
	for _, block := range msg.Value.Content {
		if t, ok := block.(*brtypes.ContentBlockMemberText); ok {
			text.WriteString(t.Value)
		}
	}
	usage := Usage{Calls: 1}
	if u := resp.Usage; u != nil {
		cacheRead := int(aws.ToInt32(u.CacheReadInputTokens))
		usage.PromptTokens = int(aws.ToInt32(u.InputTokens)) + cacheRead + int(aws.ToInt32(u.CacheWriteInputTokens))
		usage.CachedPromptTokens = cacheRead
		usage.CompletionTokens = int(aws.ToInt32(u.OutputTokens))
	}
	return text.String(), bedrockFinish(resp.StopReason), usage, nil
}

// bedrockInput turns a Request into a Converse call. Consecutive messages of
// one role become one Bedrock message (Converse wants roles to alternate),
// and empty messages are dropped (Converse refuses blank text blocks).
func bedrockInput(req Request) *bedrockruntime.ConverseInput {
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	in := &bedrockruntime.ConverseInput{
		ModelId: aws.String(req.Model),
		InferenceConfig: &brtypes.InferenceConfiguration{
			MaxTokens:   aws.Int32(int32(min(maxTokens, 1<<31-1))),
			Temperature: aws.Float32(req.Temperature),
		},
	}
	if req.System != "" {
		in.System = []brtypes.SystemContentBlock{&brtypes.SystemContentBlockMemberText{Value: req.System}}
	}
	for _, m := range req.Messages {
		if m.Content == "" {
			continue
		}
		role := brtypes.ConversationRoleUser
		if m.Role == "assistant" {
			role = brtypes.ConversationRoleAssistant
		}
		block := &brtypes.ContentBlockMemberText{Value: m.Content}
		if k := len(in.Messages); k > 0 && in.Messages[k-1].Role == role {
			in.Messages[k-1].Content = append(in.Messages[k-1].Content, block)
			continue
		}
		in.Messages = append(in.Messages, brtypes.Message{Role: role, Content: []brtypes.ContentBlock{block}})
	}
	return in
}

// bedrockFinish normalises a Converse stop reason.
func bedrockFinish(r brtypes.StopReason) string {
	switch r {
	case brtypes.StopReasonEndTurn, brtypes.StopReasonStopSequence:
		return FinishStop
	case brtypes.StopReasonMaxTokens:
		return FinishLength
	}
	return string(r)
}

// bedrockError maps a failed Converse call onto ProviderError using the HTTP
// status of the response (0 for network errors, which stay retryable).
// Quota and throttling errors are retryable whatever status carried them.
func bedrockError(model string, err error) error {
	status := 0
	var retryAfter time.Duration
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.Response != nil && respErr.Response.Response != nil {
		status = respErr.HTTPStatusCode()
		retryAfter = ParseRetryAfter(respErr.Response.Header.Get("Retry-After"), time.Now())
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && status < 500 && status != http.StatusTooManyRequests {
		switch apiErr.ErrorCode() {
		case "ThrottlingException", "ServiceQuotaExceededException", "ModelNotReadyException":
			status = http.StatusTooManyRequests
		}
	}
	return ProviderError(bedrockProvider, model, bedrockKeyEnv, status, retryAfter, err)
}
