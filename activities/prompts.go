package activities

// Prompts are written for frontier models. Each user message starts with a
// "## ..." header that names the step: it keeps transcripts readable and lets
// the scripted test model tell the steps apart.

const ideaSystem = `You are an ambitious AI PhD student who wants to publish a paper that will contribute significantly to the field.
%s`

const ideaFirstPrompt = `## Idea generation
%s

Here is the code the experiments build on (experiment.py):
<experiment.py>
%s
</experiment.py>

Ideas already proposed (do not repeat them, and do not submit minor variations of them):
%s

Propose the next impactful and creative research idea that can be tested by modifying this code. Make it feasible: no new datasets, no extra compute, no packages that are not already imported. Each experiment run must finish within the time budget of the baseline.

Respond in exactly this format:

THOUGHT:
<your reasoning: the intuition and motivation, how you would test it, why it is novel and feasible>

NEW IDEA JSON:
` + "```json" + `
{"Name": "...", "Title": "...", "Experiment": "...", "Interestingness": N, "Feasibility": N, "Novelty": N}
` + "```" + `

Fields: "Name" is a short descriptor in lowercase with underscores; "Title" is the paper title; "Experiment" outlines the implementation; the three ratings are integers from 1 to 10 and must be honest and calibrated.

This is reflection round 1 of %d.`

const ideaReflectPrompt = `## Idea reflection
This is reflection round %d of %d.
Consider carefully the quality, novelty and feasibility of the idea you just created, and anything else you think is important. Make sure the JSON is correct and the ratings are honest. Do not make things overly complicated.
Improve the idea if there are clear flaws; otherwise keep it as it is.
Respond in the same format: THOUGHT: then NEW IDEA JSON: with the json block.
If there is nothing to improve, repeat the previous JSON exactly and write "I am done" at the end of your THOUGHT.`

const ideaBadJSONPrompt = `## Idea reflection
Your last reply could not be used: %s.
Reply again in the required format: THOUGHT: then NEW IDEA JSON: followed by a json block with the fields Name, Title, Experiment, Interestingness, Feasibility, Novelty.`

const coderSystem = `You are an expert research engineer. You change code only by writing SEARCH/REPLACE blocks in exactly this format:

experiment.py
` + "```python" + `
<<<<<<< SEARCH
exact lines currently in the file
=======
the lines that replace them
>>>>>>> REPLACE
` + "```" + `

Rules:
- The file path stands alone on the line before the opening fence.
- SEARCH must match existing lines character for character, including indentation and comments; keep SEARCH short but unique.
- Use several blocks for several places; a block with an empty SEARCH section creates the file or appends to it.
- You may edit only these files: %s.
- Never ask for other command-line arguments: each run is started exactly as stated and must take all its settings from the code.`

const implementPrompt = `## Implement run 1
Your goal is to implement the following idea: %s.
The proposed experiment is as follows: %s

You have up to %d runs to complete the experiments; you do not need to use all of them. First plan the list of experiments you want to run (for a hyperparameter sweep, plan the values of each run), then implement run 1.

The baseline (run 0) has already been run; do not re-run it. Baseline results:
%s

After your edits we will run the command ` + "`python experiment.py --out_dir=run_1`" + ` and report the results. No other arguments will be passed, so everything a run needs must be in the code.

Current files:
%s`

const runCompletedPrompt = `## Run %d completed
Run %d completed. Here are the results:
%s
Compare them with the baseline and decide whether to change your plan.
First record in notes.txt what run %d tested and what its results were, with everything needed to write the paper later (use a SEARCH/REPLACE block with an empty SEARCH to append).
Then implement the next experiment, which will be run with ` + "`python experiment.py --out_dir=run_%d`" + `.
If you have finished all experiments you planned, update notes.txt and then write ALL_COMPLETED on its own line instead of further code changes.

Current files:
%s`

const runFailedPrompt = `## Run %d failed
Run %d failed (attempt %d of %d). %s
The last lines of its error output:
` + "```" + `
%s
` + "```" + `
Fix the code with SEARCH/REPLACE blocks so that ` + "`python experiment.py --out_dir=run_%d`" + ` succeeds.

Current files:
%s`

const editNotAppliedPrompt = `## Edit failed
Your edits for run %d were not applied, so nothing was run: %s
Send SEARCH/REPLACE blocks that implement run %d.

Current files:
%s`

const syntaxErrorPrompt = `Your edits were applied, but Python cannot compile the result:
%s
Fix it with SEARCH/REPLACE blocks against the current files.`

const noBlocksPrompt = `Your reply contained no SEARCH/REPLACE blocks, so nothing changed. Reply with SEARCH/REPLACE blocks in the required format.`

const tooEarlyPrompt = `ALL_COMPLETED is accepted only after at least one experiment run has succeeded. Implement run %d with SEARCH/REPLACE blocks.`

const plotPrompt = `## Plotting
Great job! Now modify plot.py to generate the most relevant plots for the final write-up.
Fill in the labels dictionary with a descriptive legend name for each run you want to plot; only runs in labels are plotted. Completed runs: %s.
We will run ` + "`python plot.py`" + ` in the paper folder; it must write PNG files into that folder.

Current files:
%s`

const plotFailedPrompt = `## Plot failed
Plotting failed (attempt %d of %d). %s
The last lines of its error output:
` + "```" + `
%s
` + "```" + `
Fix plot.py with SEARCH/REPLACE blocks.

Current files:
%s`

const notesPrompt = `## Notes on figures
The plots are done. These figures now exist in the paper folder: %s.
Append to notes.txt a description of what each figure shows, with its file name, so that someone can write a report from notes.txt alone. Use a SEARCH/REPLACE block with an empty SEARCH to append.

Current files:
%s`

const latexFixPrompt = `## LaTeX problems
The paper latex/template.tex has these problems (round %d of %d):
%s
Fix them with SEARCH/REPLACE blocks on latex/template.tex. Change only what is needed; never invent citation keys (use only keys in the references.bib block) and include only figures that exist: %s.
If a problem cannot be fixed by editing the file, reply with "NO CHANGES" and explain why.

Current file:
%s`

const writerSystem = `You are an expert machine-learning researcher writing a paper for a top conference, in LaTeX.
Write concise, precise prose. Every number must come from the run results you are given (rounded sensibly, or a difference or ratio you say is one) or from the code's settings; never invent results: every number in the abstract, the Results and the tables is checked against the runs before the paper is compiled. Cite only with \cite{key} (or \citet, \citep) using the bibliography's keys. Include only the figures listed as available, each once in the whole paper, with \includegraphics{file.png}; figures and tables belong in the Results (or the Method for a diagram), not in the Introduction or Conclusion. Escape special characters such as _ and %% in text. Do not use \section commands; write only the body of the part you are asked for. Never leave a placeholder, a TODO or a bracketed note to fill in later.
The preamble is fixed and loads these packages: %s. Use only their commands and LaTeX's own: no \usepackage lines, no other packages' commands.`

// paperContext follows writerSystem in the system prompt: the material
// every section draws on, ordered so what changes least comes first. It is
// the same for every section of a pass, so it forms the stable prefix that
// providers' prompt caches (OpenAI's automatic one, Anthropic's
// cache_control) serve again; what changes (the sections written so far)
// is in the user message.
const paperContext = `

# The research
Paper title: %s
Idea: %s

The task the experiments address (the template's description):
<task>
%s
</task>

The code of the experiments, experiment.py as the last run left it (its constants are the settings to report):
%spython
%s
%s

Results of every run (means over seeds, from run_i/final_info.json):
` + "```json" + `
%s
` + "```" + `

Notes from the experiments (notes.txt: what each run changed and found, and what each figure shows):
<notes>
%s
</notes>

Figures available: %s

The bibliography (references.bib), one entry a line as key: title — authors (year):
%s
Citation keys available: %s
`

const writeSectionPrompt = `## Write section: %s
%s
%s

Reply with THOUGHT: and your plan, then the LaTeX in a single fenced block:
` + "```latex" + `
...
` + "```" + `
%s`

const titleAbstractFormat = `For this part, put the title on its own line starting with "TITLE:" before the fenced block, and put only the abstract text (no \begin{abstract}) in the block.`

const refineSectionPrompt = `## Refine section: %s
Criticise the %s you just wrote and fix every problem: unenclosed math symbols, figures that are not available or included twice, LaTeX syntax errors, numbers not found in the results or the code, repeated figure labels, citations whose keys are not in the bibliography, verbose or repeated text, results or figures from the notes that go unused, unescaped underscores, placeholders.
Reply with THOUGHT: and then the complete improved version in a single fenced latex block, in the same format as before.`

// finalSectionPrompt: section, the whole paper, section, its current text,
// tips, format.
const finalSectionPrompt = `## Second refinement: %s
Here is the whole paper as it stands (latex/template.tex from \begin{document} on):
<paper>
%s
</paper>

The current text of the %s:
` + "```latex" + `
%s
` + "```" + `

%s
Keep every \cite that is still apt (the bibliography only holds papers found for this paper) and every \label that is referenced. Reply with THOUGHT: (what you change and why) and then the complete new text of this part in a single fenced latex block, without its \section heading.
%s`

const finalTips = `Refine this part with the whole paper in view: remove what another section already says, make it fit what comes before and after, cut it to the length its content deserves, keep figures and tables only where they belong (each figure once in the paper), and check that every number still matches the run results.`

const finalTitleTips = `Refine the abstract with the whole paper in view (it must state what the Results really show, with their numbers), and rethink the title: is it short, specific, and true to the results? Change it if a better one exists.`

const finalRelatedTips = `Finish the Related Work: turn the sketch and its plan comments into prose that compares and contrasts our work with the cited papers (how their assumptions or methods differ, whether they apply to our problem), using the bibliography as it is now, including the papers the literature search added. Remove the plan comments.`

// sectionBadLatexPrompt re-asks for a section (%s: "Write section: Method"
// or "Refine section: Method", so the step header stays that of the request).
const sectionBadLatexPrompt = `## %s
Your reply could not be used: %s.
Reply again with THOUGHT: and then the complete LaTeX in a single fenced block, in the same format as before:
` + "```latex" + `
...
` + "```"

// numbersFixPrompt: round, rounds, the unmatched numbers.
const numbersFixPrompt = `## Numbers check round %d of %d
Every number in the abstract, the Results and the tables of latex/template.tex was checked against the run results (run_i/final_info.json, rounding and percent forms allowed, differences and ratios of two runs allowed) and the settings in the code. These numbers match none of them:
%s
For each, fix the text with SEARCH/REPLACE blocks on latex/template.tex: use the true value, say how a derived number is computed, or remove the claim. A number that is right but not a run result (a threshold, a count) may stay: then say so in your THOUGHT and leave it. If nothing needs to change, reply "NO CHANGES" and explain why.

Current file:
%s`

// improvePrompt: the review JSON.
const improvePrompt = `## Improve the paper
A reviewer wrote this review of the paper:
` + "```json" + `
%s
` + "```" + `
Improve latex/template.tex using the review: answer its weaknesses and questions where the experiments and their results allow it (clarify, add the missing detail, temper claims the results do not support, discuss the limitations). Never invent results: every number must still come from the runs. Use SEARCH/REPLACE blocks on latex/template.tex; do not edit the references.bib block.

Current file:
%s`

// reviewSystem: the reviewer's persona, the form, then the few-shot
// examples (%s): the same for every paper, so the stable prefix a prompt
// cache serves again; the paper comes in the user message.
const reviewSystem = `You are an AI researcher reviewing a paper submitted to a prestigious machine-learning venue. Be critical and cautious in your decision: if a paper is bad or you are unsure, give it bad scores and reject it. Ground every point in the paper's text; never praise what the paper does not show.

# The review form
Read the whole paper, then fill in every field:
- "Summary": what the paper claims and does, in your own words, in a short paragraph a non-author would agree with.
- "Strengths" and "Weaknesses": lists of concise, specific points covering originality (is the task or method new, and is related work cited and differentiated?), quality (are the claims supported by the experiments: seeds, error bars, baselines, ablations?), clarity (could an expert reproduce it?) and significance (would others build on it?).
- "Originality", "Quality", "Clarity", "Significance": integers 1 (low), 2 (medium), 3 (high), 4 (very high).
- "Questions": what you would ask the authors; answers that could change your opinion.
- "Limitations": the limitations and potential negative societal impact the paper has or fails to state.
- "Ethical Concerns": true or false.
- "Soundness", "Presentation", "Contribution": integers 1 (poor), 2 (fair), 3 (good), 4 (excellent).
- "Overall": integer 1 to 10: 10 award quality (technically flawless, groundbreaking); 9 very strong accept; 8 strong accept; 7 accept (technically solid, high impact on at least one sub-area); 6 weak accept (solid, moderate impact, no major concerns); 5 borderline accept (solid, reasons to accept outweigh reasons to reject, e.g. limited evaluation); 4 borderline reject (reasons to reject, e.g. weak evaluation, outweigh reasons to accept); 3 reject (technical flaws, weak evaluation, poor reproducibility); 2 strong reject (major technical flaws or unaddressed ethics); 1 very strong reject (trivial or wrong).
- "Confidence": integer 1 (an educated guess) to 5 (certain: you know the area and checked the details).
- "Decision": "Accept" or "Reject".

Respond in exactly this format:

THOUGHT:
<your reasoning about the paper: what it gets right, where it falls short, and how that sets each score>

REVIEW JSON:
` + "```json" + `
{ ...every field of the form... }
` + "```" + `
%s`

// reviewExamples introduces the few-shot examples (%s: the examples).
const reviewExamples = `
# Example reviews
Here are reviews an expert wrote of other papers, to show the standard and the calibration expected (they are not the paper you review):
%s`

// reviewExample: one example's paper text and its review.
const reviewExample = `
<example_paper>
%s
</example_paper>
<example_review>
%s
</example_review>
`

const reviewPrompt = `## Review
Review the paper below (its text as extracted from the PDF).%s
<paper>
%s
</paper>`

const reviewBadJSONPrompt = `## Review
Your review could not be used: %s.
Reply again with THOUGHT: and REVIEW JSON: followed by a json block holding every field of the form with values in range.`

// reviewReflectPrompt: round, rounds.
const reviewReflectPrompt = `## Review reflection %d of %d
Carefully consider the accuracy and soundness of the review you just gave. Include any factor you think important in evaluating the paper; make sure every point is grounded in the paper's text, the scores follow from your points and the form's scale, and the JSON is correct. Do not make things overly complicated.
Reply in the same format: THOUGHT: then REVIEW JSON: with the json block. If there is nothing to improve, repeat the previous JSON exactly and write "I am done" at the end of your THOUGHT.`

// metaReviewSystem is the area chair's persona.
const metaReviewSystem = `You are an area chair at a prestigious machine-learning venue. You write the meta-review of a paper from its reviewers' reviews: the points most of them make and the strongest single points, weighed against the paper's claims. Be critical and cautious: when the reviewers disagree or are unsure, lean towards rejection. Reply in the reviewers' own form.`

// metaReviewPrompt: the count line, the reviews.
const metaReviewPrompt = `## Meta-review
%s
%s
Write the meta-review in the same form: THOUGHT: (where the reviewers agree and disagree, and your judgement) and then REVIEW JSON: with a json block holding every field (Summary, Strengths, Weaknesses, Originality, Quality, Clarity, Significance, Questions, Limitations, Ethical Concerns, Soundness, Presentation, Contribution, Overall, Confidence, Decision). The numeric scores will be set to the reviewers' rounded means; your text and decision are the meta-review.`

const metaReviewBadJSONPrompt = `## Meta-review
Your meta-review could not be used: %s.
Reply again with THOUGHT: and REVIEW JSON: followed by a json block holding every field of the form with values in range.`

const noveltySystem = `You are an ambitious AI researcher checking whether a research idea is new before anyone spends compute on it. You search the literature one query at a time, read what comes back, and decide honestly: an idea is "not novel" when a published paper already does essentially the same experiment or reaches the same finding; a different setting, dataset or a clearly new angle can still be novel. Be critical: a reviewer will check.`

const noveltyFirstPrompt = `## Novelty check
The research area:
%s

The idea to check:
` + "```json" + `
%s
` + "```"

// noveltyRoundPrompt: round, rounds, what the last search found.
const noveltyRoundPrompt = `## Novelty check round %d of %d
%s

Either search once more, with a query you expect to find the closest existing work, or decide when you have seen enough. Reply with THOUGHT: (your reasoning about the papers so far) and then RESPONSE: with one JSON object, either
` + "```json" + `
{"Query": "a literature search query"}
` + "```" + `
or
` + "```json" + `
{"Decision": "novel" or "not novel", "Reasoning": "why, naming the closest papers", "Closest": ["title of the closest paper", "..."]}
` + "```"

const noveltyBadJSONPrompt = `## Novelty check
Your reply could not be used: %s.
Reply again with THOUGHT: and RESPONSE: followed by a json block holding either {"Query": "..."} or {"Decision": "novel" or "not novel", "Reasoning": "...", "Closest": [...]}.`

const citationFirstPrompt = `## Citations
Here is the paper so far (latex/template.tex from \begin{document} on):
<paper>
%s
</paper>`

// citationRoundPrompt: round, rounds, the bibliography's keys.
const citationRoundPrompt = `## Citation round %d of %d
The bibliography (references.bib) now holds: %s.
Name the single most important citation still missing from the paper: a work the text relies on, compares with or should credit, most of all in the Related Work, the Introduction and where the method and results build on others. Reply with THOUGHT: and then RESPONSE: with one JSON object:
` + "```json" + `
{"Description": "what the citation supports and where it goes", "Query": "a literature search query that finds it"}
` + "```" + `
When nothing important is missing, reply with RESPONSE: {"Done": true}.`

const citationBadJSONPrompt = `## Citations
Your reply could not be used: %s.
Reply again with THOUGHT: and RESPONSE: followed by {"Description": "...", "Query": "..."}, or {"Done": true}.`

// citationSelectPrompt: the description asked for, the numbered results.
const citationSelectPrompt = `## Citation selection
You asked for: %s
%s
Choose the papers that are the citation you asked for (usually one; none if no result fits: never cite a paper only because it came up). Reply with THOUGHT: and RESPONSE: with one JSON object:
` + "```json" + `
{"Selected": [0], "Description": "where in the paper each is cited and for what"}
` + "```" + `
Use the numbers shown; "Selected": [] for none.`

const citationBadSelectionPrompt = `## Citation selection
Your reply could not be used: %s.
Reply again with THOUGHT: and RESPONSE: followed by {"Selected": [numbers], "Description": "..."}.`

// citePrompt: the papers added, one a line.
const citePrompt = `## Add citations
These papers were just added to the bibliography of latex/template.tex:
%s
Cite each where it belongs with \cite{key} (or \citet, \citep), in the Related Work and wherever else the text relies on it, with SEARCH/REPLACE blocks on latex/template.tex. Change only the sentences that gain a citation; do not edit the references.bib block.

Current file:
%s`
